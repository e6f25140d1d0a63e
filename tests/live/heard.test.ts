// How much of an interrupted reply was heard: by the audio the client played, or by the chunks read.
import { describe, expect, it } from 'vitest';
import { cutAtWord, heardReply } from '../../src/shared/live/heard.js';

const SENTENCES = [
  { index: 0, text: 'Claro!', durationMs: 600 },
  { index: 1, text: 'A consulta é amanhã às nove.', durationMs: 2800 },
  { index: 2, text: 'Leve um documento.', durationMs: 1800 },
];

describe('cutAtWord', () => {
  it.each([
    [0, ''],
    [0.1, 'A'],
    [0.5, 'A consulta é'],
    [0.75, 'A consulta é amanhã'],
    [0.99, 'A consulta é amanhã às'],
    [1, 'A consulta é amanhã às nove.'],
  ])('cuts at the last word that ends within %s of the sentence', (fraction, heard) => {
    expect(cutAtWord('A consulta é amanhã às nove.', fraction)).toBe(heard);
  });
});

describe('heardReply', () => {
  it.each([
    [0, '', 0],
    [500, '', 0],
    [600, 'Claro!', 1],
    [600 + 1400, 'Claro! A consulta é', 2],
    [600 + 2800, 'Claro! A consulta é amanhã às nove.', 2],
    [600 + 2800 + 1800, 'Claro! A consulta é amanhã às nove. Leve um documento.', 3],
    [60_000, 'Claro! A consulta é amanhã às nove. Leve um documento.', 3],
  ])('with playedMs %s hears "%s"', (playedMs, text, sentencesHeard) => {
    expect(heardReply(SENTENCES, { playedMs, readIndex: -1 })).toEqual({ text, sentencesHeard });
  });

  it('without playedMs counts the chunks a consumer read, in index order whatever order they are given', () => {
    const shuffled = [SENTENCES[2]!, SENTENCES[0]!, SENTENCES[1]!];
    expect(heardReply(shuffled, { readIndex: -1 })).toEqual({ text: '', sentencesHeard: 0 });
    expect(heardReply(shuffled, { readIndex: 1 })).toEqual({ text: 'Claro! A consulta é amanhã às nove.', sentencesHeard: 2 });
  });
});
