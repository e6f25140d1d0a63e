// Grammatical gender of the noun after a number, so that "2 horas" reads "duas horas" and "1 pessoa" "uma pessoa".
// Nice-to-have, not exhaustive: a short list of feminine nouns common in assistant replies plus suffixes that
// are (almost) always feminine. Anything else is masculine, the default form of Portuguese numbers.
import type { Gender } from './number-words.js';

const FEMININE_SINGULARS = [
  'pessoa', 'hora', 'vez', 'semana', 'quinzena', 'noite', 'manhã', 'tarde', 'madrugada', 'década',
  'casa', 'coisa', 'criança', 'mulher', 'menina', 'filha', 'irmã', 'mãe', 'amiga', 'página', 'pergunta',
  'resposta', 'maneira', 'forma', 'empresa', 'loja', 'rua', 'quadra', 'xícara', 'colher', 'garrafa',
  'lata', 'fatia', 'gota', 'dose', 'cápsula', 'pílula', 'parcela', 'libra', 'tonelada', 'milha', 'caloria',
  'linha', 'palavra', 'letra', 'frase', 'vaga', 'aula', 'fruta', 'maçã', 'banana', 'laranja', 'cerveja',
  'pizza', 'moeda', 'nota', 'conta', 'chance', 'etapa', 'fase', 'vitória', 'derrota', 'estrela', 'árvore',
  'flor', 'planta', 'folha', 'mesa', 'cadeira', 'porta', 'janela', 'sala', 'cama', 'chave', 'foto',
  'imagem', 'música', 'faixa', 'temporada', 'série', 'cena', 'história', 'ideia', 'regra', 'lei', 'prova',
  'tarefa', 'lista', 'área', 'língua', 'carta', 'caixa', 'bola', 'peça', 'parte', 'dúzia', 'dezena',
  'centena', 'vida', 'volta', 'viagem', 'passagem', 'refeição', 'receita', 'cor', 'unidade', 'cidade',
];

function plural(word: string): string {
  if (/[rz]$/.test(word)) return `${word}es`;
  if (word.endsWith('m')) return `${word.slice(0, -1)}ns`;
  return `${word}s`;
}

const FEMININE = new Set(FEMININE_SINGULARS.flatMap((w) => [w, plural(w)]));

// -ção, -são, -dade, -agem, -tude, -eza, -ura, -ência, -ância: feminine nouns (nação, versão, cidade, viagem…).
const FEMININE_SUFFIX = /(ção|ções|são|sões|dade|dades|agem|agens|tude|tudes|eza|ezas|ura|uras|ência|ências|ância|âncias)$/;

export function genderOfNoun(word: string): Gender {
  const lower = word.toLowerCase();
  return FEMININE.has(lower) || FEMININE_SUFFIX.test(lower) ? 'feminine' : 'masculine';
}
