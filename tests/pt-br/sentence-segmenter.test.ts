import { describe, expect, it } from 'vitest';
import { SentenceSegmenter, splitSentences, type SegmenterOptions } from '../../src/shared/pt-br/sentence-segmenter.js';
import { CORPUS, type SentenceRow } from './sentence-corpus.js';
import { randomTokens, realisticTokens } from './stream-tokens.js';

interface Released {
  sentence: string;
  /** Index of the push() that returned it; tokens.length for end(). */
  at: number;
}

function stream(tokens: readonly string[], options?: SegmenterOptions): Released[] {
  const segmenter = new SentenceSegmenter(options);
  const released: Released[] = [];
  tokens.forEach((token, at) => {
    for (const sentence of segmenter.push(token)) released.push({ sentence, at });
  });
  for (const sentence of segmenter.end()) released.push({ sentence, at: tokens.length });
  return released;
}

function sentencesOf(released: readonly Released[]): string[] {
  return released.map((r) => r.sentence);
}

/** Where each sentence lies in the reply: in order, each a trimmed slice that ends before whitespace or the end. */
function spans(reply: string, sentences: readonly string[]): { start: number; end: number }[] {
  let cursor = 0;
  return sentences.map((sentence) => {
    expect(sentence).toBe(sentence.trim());
    expect(sentence).not.toBe('');
    const start = reply.indexOf(sentence, cursor);
    expect(start, `"${sentence}" is a slice of the reply after the sentence before it`).toBeGreaterThanOrEqual(0);
    expect(reply.slice(cursor, start)).toMatch(/^\s*$/);
    cursor = start + sentence.length;
    return { start, end: cursor };
  });
}

const ROWS: SentenceRow[] = CORPUS.flatMap(([, rows]) => rows);

describe('the corpus', () => {
  it('has at least 40 replies, each with a distinct label', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ROWS.map(([label]) => label)).size).toBe(ROWS.length);
  });
});

describe.each(CORPUS)('splitSentences: %s', (_group, rows) => {
  it.each(rows)('%s (whole text)', (_label, reply, sentences) => {
    expect(splitSentences(reply)).toEqual(sentences);
  });

  it.each(rows)('%s (realistic tokens)', (_label, reply, sentences) => {
    const tokens = realisticTokens(reply);
    expect(tokens.join('')).toBe(reply);
    expect(sentencesOf(stream(tokens))).toEqual(sentences);
  });

  it.each(rows)('%s (random tokens, 5 seeds)', (_label, reply, sentences) => {
    for (let seed = 1; seed <= 5; seed += 1) {
      expect(sentencesOf(stream(randomTokens(reply, seed)))).toEqual(sentences);
    }
  });

  it.each(rows)('%s: cuts only before whitespace, keeps every character', (_label, reply, sentences) => {
    const found = spans(reply, sentences);
    for (const { end } of found) expect(reply.slice(end, end + 1)).toMatch(/^\s?$/);
    expect(reply.slice(found.at(-1)?.end ?? 0)).toMatch(/^\s*$/);
  });

  it.each(rows)('%s: each sentence comes out by the token after its stop', (_label, reply) => {
    const tokens = realisticTokens(reply);
    const tokenOf: number[] = tokens.flatMap((token, i) => Array.from({ length: token.length }, () => i));
    const released = stream(tokens);
    const found = spans(reply, sentencesOf(released));
    released.forEach(({ at }, i) => {
      const end = found[i]?.end ?? 0;
      const next = reply.slice(end).search(/\S/u);
      const deadline = next < 0 ? tokens.length : (tokenOf[end + next] ?? tokens.length);
      expect(at).toBeLessThanOrEqual(deadline);
    });
  });
});

describe('SentenceSegmenter.push', () => {
  it('releases a short first sentence in the push of the token that confirms it', () => {
    const segmenter = new SentenceSegmenter();
    expect(segmenter.push('Oi')).toEqual([]);
    expect(segmenter.push('!')).toEqual([]);
    expect(segmenter.push(' Tudo')).toEqual(['Oi!']);
    expect(segmenter.push(' bem')).toEqual([]);
    expect(segmenter.push('?')).toEqual([]);
    expect(segmenter.end()).toEqual(['Tudo bem?']);
  });

  it('waits one token to tell a stop from a decimal point', () => {
    const segmenter = new SentenceSegmenter();
    expect(['Custa', ' R', '$', ' 1', '.', '250', ',', '50', '.'].flatMap((t) => segmenter.push(t))).toEqual([]);
    expect(segmenter.push(' Quer')).toEqual(['Custa R$ 1.250,50.']);
    expect(segmenter.end()).toEqual(['Quer']);
  });

  it('settles a stop as a cut when the next token is only whitespace (the letter after it is not known yet)', () => {
    const segmenter = new SentenceSegmenter();
    expect(segmenter.push('Bem...')).toEqual([]);
    expect(segmenter.push(' ')).toEqual(['Bem...']);
    expect(segmenter.push('talvez.')).toEqual([]);
    expect(segmenter.end()).toEqual(['talvez.']);
    // Whole text, the next letter is known: a lowercase word goes on.
    expect(splitSentences('Bem... talvez.')).toEqual(['Bem... talvez.']);
  });

  it('returns a sentence that a line break ends in that same push', () => {
    const segmenter = new SentenceSegmenter();
    expect(segmenter.push('1. Arroz')).toEqual([]);
    expect(segmenter.push('\n')).toEqual(['1. Arroz']);
    expect(segmenter.push('\n')).toEqual([]);
  });

  it('gives nothing for an empty or blank stream, and can be used again after end()', () => {
    const segmenter = new SentenceSegmenter();
    expect(segmenter.end()).toEqual([]);
    expect(segmenter.push('  \n\n ')).toEqual([]);
    expect(segmenter.end()).toEqual([]);
    expect(segmenter.push('"Aberto. ')).toEqual([]);
    expect(segmenter.end()).toEqual(['"Aberto.']);
    expect([...segmenter.push('Novo. Texto'), ...segmenter.end()]).toEqual(['Novo.', 'Texto']);
  });

  it('rejects a maxChars that cannot cut', () => {
    expect(() => new SentenceSegmenter({ maxChars: 0 })).toThrow(RangeError);
    expect(() => new SentenceSegmenter({ maxChars: 1.5 })).toThrow(RangeError);
  });
});

// Choice: the last , ; : or spaced dash is used when it leaves at least half of maxChars, else the last space.
const LONG_CLAUSES: [label: string, maxChars: number, reply: string, sentences: string[]][] = [
  [
    'no punctuation: the last space before maxChars',
    40,
    'Eu posso te ajudar a organizar a sua agenda da semana com todos os compromissos importantes',
    ['Eu posso te ajudar a organizar a sua', 'agenda da semana com todos os', 'compromissos importantes'],
  ],
  [
    'commas: the last one that leaves half of maxChars',
    60,
    'Para chegar lá, pegue o metrô até a estação Sé, depois siga a pé pela rua Direita até a praça e vire à direita.',
    ['Para chegar lá, pegue o metrô até a estação Sé,', 'depois siga a pé pela rua Direita até a praça e vire à', 'direita.'],
  ],
  [
    'a comma too early is passed over for the last space',
    40,
    'Bom, eu acho que a melhor opção para você agora é o plano anual.',
    ['Bom, eu acho que a melhor opção para', 'você agora é o plano anual.'],
  ],
  [
    'a spaced dash and a semicolon',
    50,
    'O plano básico custa pouco — mas não tem suporte; o plano completo tem tudo isso.',
    ['O plano básico custa pouco — mas não tem suporte;', 'o plano completo tem tudo isso.'],
  ],
  [
    'a word longer than maxChars waits for its space',
    20,
    'Acesse https://www.exemplo.com.br/ajuda/perguntas-frequentes agora mesmo',
    ['Acesse', 'https://www.exemplo.com.br/ajuda/perguntas-frequentes', 'agora mesmo'],
  ],
  [
    'an open quote is still cut by length',
    30,
    'Ele disse "vou sair agora mesmo e volto só amanhã de manhã cedo." Tudo bem.',
    ['Ele disse "vou sair agora', 'mesmo e volto só amanhã de', 'manhã cedo."', 'Tudo bem.'],
  ],
  [
    'a code block is never cut by length',
    20,
    'Rode:\n```\nnpm install && npm run build && npm test\n```\nPronto.',
    ['Rode:', '```\nnpm install && npm run build && npm test\n```', 'Pronto.'],
  ],
];

describe.each(LONG_CLAUSES)('maxChars: %s', (_label, maxChars, reply, sentences) => {
  it('cuts the whole text so', () => {
    expect(splitSentences(reply, { maxChars })).toEqual(sentences);
  });

  it('cuts the streamed tokens the same way', () => {
    expect(sentencesOf(stream(realisticTokens(reply), { maxChars }))).toEqual(sentences);
    expect(sentencesOf(stream(randomTokens(reply, 7), { maxChars }))).toEqual(sentences);
  });

  it('keeps each sentence within maxChars unless it is one word or code', () => {
    for (const sentence of sentences) {
      if (!/\s/u.test(sentence) || sentence.includes('```')) continue;
      expect(sentence.length).toBeLessThanOrEqual(maxChars);
    }
  });
});

describe('splitSentences: defaults', () => {
  it('cuts a long clause near 220 characters by default', () => {
    const clause = Array.from({ length: 80 }, (_, i) => `palavra${i}`).join(' ');
    const sentences = splitSentences(clause);
    expect(sentences.length).toBeGreaterThan(1);
    for (const sentence of sentences) expect(sentence.length).toBeLessThanOrEqual(220);
    expect(sentences.join(' ')).toBe(clause);
  });
});

describe('SentenceSegmenter: cost', () => {
  it('reads a long reply token by token in linear time (no rescan of the reply per token)', () => {
    const paragraph = 'O Sr. Silva pagou R$ 1.250,50 em 25.12.2026 (veja a pág. 3). Tudo certo? Sim! ';
    const code = '```\n' + 'const x = 1.5; // nada. Aqui\n'.repeat(2_000) + '```\n';
    const reply = paragraph.repeat(2_000) + code + paragraph.repeat(10) + 'palavra '.repeat(20_000);
    const tokens = realisticTokens(reply);
    const started = performance.now();
    const released = stream(tokens);
    const elapsedMs = performance.now() - started;
    expect(released.length).toBeGreaterThan(6_000);
    expect(released.some((r) => r.sentence.startsWith('```') && r.sentence.length > 50_000)).toBe(true);
    // ~ 400 000 characters: linear work takes tens of milliseconds; a rescan per token would take minutes.
    expect(elapsedMs).toBeLessThan(3_000);
  });
});
