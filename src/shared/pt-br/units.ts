// Units after a number: "5 km" → "cinco quilômetros", "20 °C" → "vinte graus Celsius".
// Number agreement follows the grammar: singular when the whole part is 1 ("1 km", "1,5 litro"), else plural.
// "kg" is read "quilos", the everyday spoken form; "g" (grama) is masculine in Portuguese: "duzentos gramas".
import type { Gender } from './number-words.js';
import { AMOUNT_SOURCE, NUMBER_END, NUMBER_START, readDecimal, readInteger, takesSingular } from './read-number.js';

interface Unit {
  readonly singular: string;
  readonly plural: string;
  readonly gender: Gender;
}

function unit(singular: string, plural = `${singular}s`, gender: Gender = 'masculine'): Unit {
  return { singular, plural, gender };
}

const UNITS: Readonly<Record<string, Unit>> = {
  'km/h': unit('quilômetro por hora', 'quilômetros por hora'),
  'm/s': unit('metro por segundo', 'metros por segundo'),
  '°C': unit('grau Celsius', 'graus Celsius'),
  'ºC': unit('grau Celsius', 'graus Celsius'),
  '°F': unit('grau Fahrenheit', 'graus Fahrenheit'),
  'ºF': unit('grau Fahrenheit', 'graus Fahrenheit'),
  'km²': unit('quilômetro quadrado', 'quilômetros quadrados'),
  'm²': unit('metro quadrado', 'metros quadrados'),
  'm³': unit('metro cúbico', 'metros cúbicos'),
  km: unit('quilômetro'),
  cm: unit('centímetro'),
  mm: unit('milímetro'),
  m: unit('metro'),
  kg: unit('quilo'),
  mg: unit('miligrama'),
  g: unit('grama'),
  ml: unit('mililitro'),
  mL: unit('mililitro'),
  l: unit('litro'),
  L: unit('litro'),
  ha: unit('hectare'),
  h: unit('hora', 'horas', 'feminine'),
  min: unit('minuto'),
  ms: unit('milissegundo'),
  s: unit('segundo'),
  KB: unit('quilobyte'),
  kB: unit('quilobyte'),
  MB: unit('megabyte'),
  GB: unit('gigabyte'),
  TB: unit('terabyte'),
  Mbps: unit('megabit por segundo', 'megabits por segundo'),
  Hz: unit('hertz', 'hertz'),
  kHz: unit('quilohertz', 'quilohertz'),
  MHz: unit('megahertz', 'megahertz'),
  GHz: unit('gigahertz', 'gigahertz'),
  kWh: unit('quilowatt-hora', 'quilowatts-hora'),
  kW: unit('quilowatt'),
  W: unit('watt'),
  V: unit('volt'),
  mAh: unit('miliampere-hora', 'miliamperes-hora'),
};

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// Longest symbols first, so "km/h" wins over "km" and "m²" over "m".
const SYMBOLS = Object.keys(UNITS)
  .sort((a, b) => b.length - a.length)
  .map(escapeRegExp)
  .join('|');

const MEASURE = new RegExp(
  String.raw`${NUMBER_START}${AMOUNT_SOURCE}${NUMBER_END}\s?(${SYMBOLS})(?![\p{L}\d²³])`,
  'gu',
);

/** "5 km", "2,5 l", "20 °C", "20ºC", "100 km/h", "500 g", "2 GB". The symbol must stand alone ("5 mil" is not metres). */
export function expandUnits(text: string): string {
  return text.replace(MEASURE, (match, integer: string, fraction: string | undefined, symbol: string) => {
    const found = UNITS[symbol];
    if (found === undefined) return match;
    const amount = fraction === undefined ? readInteger(integer, found.gender) : readDecimal(integer, fraction, found.gender);
    return `${amount} ${takesSingular(integer) ? found.singular : found.plural}`;
  });
}
