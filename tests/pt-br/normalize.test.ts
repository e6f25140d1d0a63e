import { describe, expect, it } from 'vitest';
import { normalizePtBr, PT_BR_RULES } from '../../src/shared/pt-br/normalize-text.js';

type Row = [input: string, spoken: string];

const MONEY: Row[] = [
  ['R$ 3,50', 'três reais e cinquenta centavos'],
  ['R$ 1,00', 'um real'],
  ['R$1', 'um real'],
  ['R$ 0,99', 'noventa e nove centavos'],
  ['R$ 0,01', 'um centavo'],
  ['R$ 0,00', 'zero reais'],
  ['R$ 3,5', 'três reais e cinquenta centavos'],
  ['R$ 1.234,56', 'mil duzentos e trinta e quatro reais e cinquenta e seis centavos'],
  ['R$ 2 milhões', 'dois milhões de reais'],
  ['R$ 1.000.000,50', 'um milhão de reais e cinquenta centavos'],
  ['R$ 1,5 milhão', 'um milhão e quinhentos mil reais'],
  ['R$ 2 mil', 'dois mil reais'],
  ['US$ 10', 'dez dólares'],
  ['US$ 1', 'um dólar'],
  ['€ 5', 'cinco euros'],
  ['Custa R$ 19,90.', 'Custa dezenove reais e noventa centavos.'],
];

const CARDINALS: Row[] = [
  ['0', 'zero'],
  ['1', 'um'],
  ['100', 'cem'],
  ['101', 'cento e um'],
  ['1000', 'mil'],
  ['1.000', 'mil'],
  ['1.001', 'mil e um'],
  ['1.100', 'mil e cem'],
  ['1.234', 'mil duzentos e trinta e quatro'],
  ['1.000.000', 'um milhão'],
  ['2.000.000', 'dois milhões'],
  ['3 gatos', 'três gatos'],
  ['Em 2026, o código 007.', 'Em dois mil e vinte e seis, o código zero zero sete.'],
  ['12345678901234', 'um dois três quatro cinco seis sete oito nove zero um dois três quatro'],
];

// Nice-to-have agreement: a known feminine noun (or feminine suffix) after the number.
const GENDER: Row[] = [
  ['1 pessoa', 'uma pessoa'],
  ['2 casas', 'duas casas'],
  ['21 pessoas', 'vinte e uma pessoas'],
  ['200 pessoas', 'duzentas pessoas'],
  ['2 mil pessoas', 'duas mil pessoas'],
  ['2 milhões de pessoas', 'dois milhões de pessoas'],
  ['3 cidades', 'três cidades'],
  ['2 filhos e 2 filhas', 'dois filhos e duas filhas'],
];

const DECIMALS: Row[] = [
  ['3,14', 'três vírgula catorze'],
  ['0,5', 'zero vírgula cinco'],
  ['3,05', 'três vírgula zero cinco'],
  ['3,14159', 'três vírgula um quatro um cinco nove'],
  ['1.234,5', 'mil duzentos e trinta e quatro vírgula cinco'],
  ['versão 2.0 do app', 'versão dois ponto zero do app'],
  ['192.168.0.1', 'cento e noventa e dois ponto cento e sessenta e oito ponto zero ponto um'],
];

const PERCENTAGES: Row[] = [
  ['15%', 'quinze por cento'],
  ['2,5%', 'dois vírgula cinco por cento'],
  ['100%', 'cem por cento'],
  ['1%', 'um por cento'],
  ['15 %', 'quinze por cento'],
  ['2.5%', 'dois vírgula cinco por cento'],
  ['-3%', 'menos três por cento'],
];

const TIMES: Row[] = [
  ['14h30', 'catorze horas e trinta minutos'],
  ['14:30', 'catorze horas e trinta minutos'],
  ['14h', 'catorze horas'],
  ['8h05', 'oito horas e cinco minutos'],
  ['às 9h', 'às nove horas'],
  ['1h', 'uma hora'],
  ['2h', 'duas horas'],
  ['0h', 'zero hora'],
  ['12:00', 'doze horas'],
  ['21h', 'vinte e uma horas'],
  ['23h59', 'vinte e três horas e cinquenta e nove minutos'],
  ['12h01', 'doze horas e um minuto'],
  ['23:59:30', 'vinte e três horas, cinquenta e nove minutos e trinta segundos'],
  ['das 8h-18h', 'das oito horas a dezoito horas'],
];

const DATES: Row[] = [
  ['25/11/2026', 'vinte e cinco de novembro de dois mil e vinte e seis'],
  ['1/5', 'primeiro de maio'],
  ['01/05', 'primeiro de maio'],
  ['25/12', 'vinte e cinco de dezembro'],
  ['31/12/1999', 'trinta e um de dezembro de mil novecentos e noventa e nove'],
  ['29/02/2024', 'vinte e nove de fevereiro de dois mil e vinte e quatro'],
  ['2026-11-25', 'vinte e cinco de novembro de dois mil e vinte e seis'],
  ['atendimento 24/7', 'atendimento vinte e quatro por sete'],
];

const ORDINALS: Row[] = [
  ['1º', 'primeiro'],
  ['2ª feira', 'segunda feira'],
  ['3º', 'terceiro'],
  ['21º', 'vigésimo primeiro'],
  ['100º', 'centésimo'],
  ['1.º lugar', 'primeiro lugar'],
  ['1° lugar', 'primeiro lugar'],
  ['a 10ª vez', 'a décima vez'],
  ['subiu 30°.', 'subiu trinta graus.'],
];

const UNITS: Row[] = [
  ['5 km', 'cinco quilômetros'],
  ['1 km', 'um quilômetro'],
  ['10 kg', 'dez quilos'],
  ['3 m', 'três metros'],
  ['2,5 l', 'dois vírgula cinco litros'],
  ['2,5 L', 'dois vírgula cinco litros'],
  ['1,5 L', 'um vírgula cinco litro'],
  ['500 g', 'quinhentos gramas'],
  ['20 °C', 'vinte graus Celsius'],
  ['20ºC', 'vinte graus Celsius'],
  ['1 °C', 'um grau Celsius'],
  ['-5 °C', 'menos cinco graus Celsius'],
  ['100 km/h', 'cem quilômetros por hora'],
  ['30 min', 'trinta minutos'],
  ['5 cm', 'cinco centímetros'],
  ['2 GB', 'dois gigabytes'],
  ['50 m²', 'cinquenta metros quadrados'],
  ['5 mil', 'cinco mil'],
];

// Choice: the DDD and country code read as numbers, the subscriber number digit by digit, a comma per group.
const PHONES: Row[] = [
  ['(11) 98765-4321', 'onze, nove oito sete seis cinco, quatro três dois um'],
  ['11 98765-4321', 'onze, nove oito sete seis cinco, quatro três dois um'],
  ['+55 11 98765-4321', 'mais cinquenta e cinco, onze, nove oito sete seis cinco, quatro três dois um'],
  ['(21) 3456-7890', 'vinte e um, três quatro cinco seis, sete oito nove zero'],
  ['98765-4321', 'nove oito sete seis cinco, quatro três dois um'],
  ['0800 123 4567', 'zero oitocentos, um dois três, quatro cinco seis sete'],
  ['Ligue para 0800-123-4567.', 'Ligue para zero oitocentos, um dois três, quatro cinco seis sete.'],
];

const ABBREVIATIONS: Row[] = [
  ['O Sr. Silva e a Sra. Souza', 'O senhor Silva e a senhora Souza'],
  ['a Srta. Lima', 'a senhorita Lima'],
  ['Dr. House e Dra. Ana', 'doutor House e doutora Ana'],
  ['Prof. Carlos e Profa. Maria', 'professor Carlos e professora Maria'],
  ['Av. Paulista, 1.000', 'avenida Paulista, mil'],
  ['Moro na R. Augusta, nº 5.', 'Moro na rua Augusta, número cinco.'],
  ['n.º 12', 'número doze'],
  ['João R. Silva', 'João R. Silva'],
  ['frutas, verduras etc. Depois', 'frutas, verduras etcétera. Depois'],
  ['frutas etc., e mais', 'frutas etcétera, e mais'],
  ['p.ex. isso', 'por exemplo isso'],
  ['Flamengo vs. Vasco', 'Flamengo versus Vasco'],
  ['tel. 123', 'telefone cento e vinte e três'],
  ['aprox. 5 km', 'aproximadamente cinco quilômetros'],
];

// Choice: 2–5 capitals are spelled unless read as a word (ONU, SUS…); a shouted sentence is lowered instead.
const ACRONYMS: Row[] = [
  ['O INSS e o CPF', 'O i ene esse esse e o cê pê efe'],
  ['O PIB subiu', 'O pê i bê subiu'],
  ['A ONU e a FIFA', 'A onu e a fifa'],
  ['Atendido pelo SUS', 'Atendido pelo sus'],
  ['ONGs e TVs', 'ó ene gês e tê vês'],
  ['Faça ISSO agora', 'Faça isso agora'],
  ['MP3 e 4G', 'eme pê três e quatro G'],
  ['COVID-19', 'covid-dezenove'],
  ['ATENÇÃO: NÃO PAGUE O INSS AGORA', 'atenção: não pague o i ene esse esse agora'],
  ['a UNESCO', 'a unesco'],
];

const ROMAN_NUMERALS: Row[] = [
  ['Dom Pedro II', 'Dom Pedro segundo'],
  ['século XXI', 'século vinte e um'],
  ['séc. XX', 'século vinte'],
  ['Bento XVI', 'Bento dezesseis'],
  ['capítulo IV', 'capítulo quarto'],
  ['a Copa do Mundo de 2014 e a Guerra Mundial II', 'a Copa do Mundo de dois mil e catorze e a Guerra Mundial segundo'],
];

const SIGNS_AND_RANGES: Row[] = [
  ['-3', 'menos três'],
  ['(−3)', '(menos três)'],
  ['A temperatura é de -2,5 °C.', 'A temperatura é de menos dois vírgula cinco graus Celsius.'],
  ['de 10-20 itens', 'de dez a vinte itens'],
  ['o placar foi 2-1', 'o placar foi dois a um'],
  ['1999–2000', 'mil novecentos e noventa e nove a dois mil'],
];

const UNCHANGED: string[] = [
  'Olá, tudo bem? Eu gostaria de saber a previsão do tempo para amanhã.',
  'Não sei; talvez amanhã!',
  'O iPhone é caro.',
  'Eu vi o filme ontem à noite.',
  'A Geração X e o Malcolm X.',
  'Ele mora em São Paulo, perto da avenida.',
];

const CLASSES: [string, Row[]][] = [
  ['money', MONEY],
  ['cardinals', CARDINALS],
  ['gender agreement', GENDER],
  ['decimals', DECIMALS],
  ['percentages', PERCENTAGES],
  ['times', TIMES],
  ['dates', DATES],
  ['ordinals', ORDINALS],
  ['units', UNITS],
  ['phone numbers', PHONES],
  ['abbreviations', ABBREVIATIONS],
  ['acronyms', ACRONYMS],
  ['roman numerals', ROMAN_NUMERALS],
  ['signs and ranges', SIGNS_AND_RANGES],
];

describe.each(CLASSES)('normalizePtBr: %s', (_name, rows) => {
  it.each(rows)('%s → %s', (input, spoken) => {
    expect(normalizePtBr(input)).toBe(spoken);
  });

  it.each(rows)('is idempotent on what it makes of %s', (input) => {
    const once = normalizePtBr(input);
    expect(normalizePtBr(once)).toBe(once);
  });
});

describe('normalizePtBr: text without anything to read differently', () => {
  it.each(UNCHANGED)('leaves %s as it is', (text) => {
    expect(normalizePtBr(text)).toBe(text);
  });

  it('leaves no digit in a reply that mixes every class', () => {
    const reply =
      'O Dr. Silva atende na Av. Paulista, nº 1.000, às 14h30 de 25/11/2026. Consulta: R$ 250,00 ' +
      '(15% de desconto). Ligue (11) 98765-4321 ou consulte o INSS. Distância: 5 km, 20 °C, 2ª feira.';
    const spoken = normalizePtBr(reply);
    expect(spoken).not.toMatch(/\d/);
    expect(spoken).toBe(
      'O doutor Silva atende na avenida Paulista, número mil, às catorze horas e trinta minutos de vinte e cinco ' +
        'de novembro de dois mil e vinte e seis. Consulta: duzentos e cinquenta reais (quinze por cento de ' +
        'desconto). Ligue onze, nove oito sete seis cinco, quatro três dois um ou consulte o i ene esse esse. ' +
        'Distância: cinco quilômetros, vinte graus Celsius, segunda feira.',
    );
  });

  it('lists its rules in the order they run, each once', () => {
    const names = PT_BR_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.indexOf('money')).toBeLessThan(names.indexOf('decimals'));
    expect(names.indexOf('units')).toBeLessThan(names.indexOf('acronyms'));
    expect(names.at(-1)).toBe('acronyms');
  });
});
