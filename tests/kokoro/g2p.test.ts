// pt-BR G2P for Kokoro: espeak-ng 1.51 → phonemizer's punctuation handling → misaki's mapping →
// Kokoro-82M token ids, and the ≤ 510-token chunking. The expected phoneme strings were produced by
// the upstream Python code itself (misaki EspeakG2P on phonemizer, over libespeak-ng 1.51), not by
// ours; a few are worked out by hand in the comments.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EspeakG2P,
  espeakToMisaki,
  misakiPreprocess,
  postprocessClauses,
  restorePunctuation,
  splitPunctuation,
} from '../../src/shared/providers/kokoro/espeak-g2p.js';
import {
  KOKORO_MAX_PHONEME_TOKENS,
  KOKORO_VOCAB,
  countPhonemeTokens,
  toInputIds,
  tokenizePhonemes,
} from '../../src/shared/providers/kokoro/kokoro-vocab.js';
import { splitPhonemes } from '../../src/shared/providers/kokoro/phoneme-chunks.js';
import { ProviderError } from '../../src/shared/providers/provider-error.js';

const TABLE: ReadonlyArray<readonly [string, string]> = [
  // espeak "olˈa" + ", " + "tˈudʊ bˈe^ɪŋ" + "?": e^ɪ → A, the run ", " and the final "?" are put back.
  ['Olá, tudo bem?', 'olˈa, tˈudʊ bˈAŋ?'],
  // No primary stress in "como você está" (all ˌ): the CLI would promote "está" to ˈ; phonemizer doesn't.
  ['Bom dia! Como você está?', 'bˈoŋ ʤˈiæ! kˌomʊ vosˌe estˌa?'],
  // "ɐ̃^ʊ̃" has no misaki entry: the tie goes, the tildes stay (token 17); "sa^ʊ" → "sW"; "d^ʒ" → "ʤ".
  ['Meu coração tem saudade.', 'meʊ kˌoɾasˈɐ̃ʊ̃ tAŋ sˌWdˈaʤy.'],
  ['A filha trabalha muito.', 'a fˈiljæ trˌabˈaljæ mwˈiŋtʊ.'], // lh → lj
  ['O ninho da aranha.', 'ʊ nˈiɲʊ da ˌaɾˈɐ̃ɲæ.'], // nh → ɲ
  ['O carro correu pela rua.', 'ʊ kˈaxʊ koxˈeʊ pˈelæ xˈuæ.'], // rr and initial r → x
  ['Os meninos gostam de livros.', 'ʊz mˌenˈinʊz ɡˈɔstɐ̃ʊ̃ ʤy lˈivrʊs.'], // -s voiced before m, not before "."
  ['Tenho vinte e três anos.', 'tˌeɲʊ vˈiŋʧj i trˈez ˈɐ̃nʊs.'],
  ['Mãe, pão, mão e irmão.', 'mˈɐ̃y, pˈɐ̃ʊ̃, mˈɐ̃ʊ̃ i iɾəmˈɐ̃ʊ̃.'],
  ['Ela perguntou: «Você vem?»', 'ˌɛlæ pˌeɾəɡũŋtˈow: “vosˌe vˈAŋ?”'], // «» become “” before espeak
  ['Isso (talvez) seja verdade.', 'ˈisʊ (tWvˈes) sˈeʒæ vˌeɾədˈaʤy.'], // () survive as «» round trip
  ['Eu não sei... talvez amanhã.', 'eʊ nˌɐ̃ʊ̃ sˈA... tWvˈez ˌæmɐ̃ɲˈɐ̃.'],
  ['Meu coração tem saudade — muita saudade — de você.', 'meʊ kˌoɾasˈɐ̃ʊ̃ tAŋ sˌWdˈaʤy — mwˈiŋtæ sˌWdˈaʤy — ʤy vosˈe.'],
  ['Quem? Eu? Não!', 'kˈAŋ? ˈeʊ? nˈɐ̃ʊ̃!'],
  ['Foi um prazer conhecê-lo.', 'foɪ ũŋ prazˈer kˌoɲesˈelʊ.'], // o^ɪ is unmapped: just untied
  ['Mais dói.', 'mˈIz dˈY.'], // a^ɪ → I, ɔ^ɪ → Y
  ['Sou', 'sow'], // a one-word clause stays unstressed (the CLI alone would print "sˈow")
  ['Ele saiu – e não voltou.', 'ˌely saˈiʊ i nˌɐ̃ʊ̃ vowtˈow.'], // espeak splits at "–": one run per chunk
];

const IDS: ReadonlyArray<readonly [string, number[]]> = [
  ['olˈa, tˈudʊ bˈAŋ?', [57, 54, 156, 43, 3, 16, 62, 156, 63, 46, 135, 16, 44, 156, 24, 112, 6]],
  ['ʊ kˈaxʊ koxˈeʊ pˈelæ xˈuæ.', [135, 16, 53, 156, 43, 66, 135, 16, 53, 57, 66, 156, 47, 135, 16, 58, 156, 47, 54, 72, 16, 66, 156, 63, 72, 4]],
  [
    'mˈɐ̃y, pˈɐ̃ʊ̃, mˈɐ̃ʊ̃ i iɾəmˈɐ̃ʊ̃.',
    [55, 156, 70, 17, 67, 3, 16, 58, 156, 70, 17, 135, 17, 3, 16, 55, 156, 70, 17, 135, 17, 16, 51, 16, 51, 125, 83, 55, 156, 70, 17, 135, 17, 4],
  ],
];

describe('Kokoro vocabulary', () => {
  it('is config.json’s table: 114 symbols with its sparse ids', () => {
    expect(KOKORO_VOCAB.size).toBe(114);
    expect([KOKORO_VOCAB.get(';'), KOKORO_VOCAB.get(' '), KOKORO_VOCAB.get('\u0303'), KOKORO_VOCAB.get('ˈ')]).toEqual([1, 16, 17, 156]);
    expect([KOKORO_VOCAB.get('\u0261'), KOKORO_VOCAB.get('g'), KOKORO_VOCAB.get('ᵻ')]).toEqual([92, undefined, 177]);
  });

  it.each(IDS)('tokenizes %s', (phonemes, ids) => {
    expect(tokenizePhonemes(phonemes)).toEqual({ ids, dropped: [] });
  });

  it('drops and reports symbols Kokoro does not know', () => {
    expect(tokenizePhonemes('ga^\nb')).toEqual({ ids: [43, 44], dropped: ['g', '^', '\n'] });
    expect(countPhonemeTokens('ga^\nb')).toBe(2);
  });

  it('frames ids with pad 0 and refuses more than 510', () => {
    expect(toInputIds([57, 54])).toEqual([0, 57, 54, 0]);
    expect(toInputIds(new Array<number>(510).fill(16))).toHaveLength(512);
    expect(() => toInputIds(new Array<number>(511).fill(16))).toThrow(RangeError);
  });
});

describe('espeakToMisaki', () => {
  it.each([
    ['a^ɪ', 'I'], ['a^ʊ', 'W'], ['d^z', 'ʣ'], ['d^ʒ', 'ʤ'], ['e^ɪ', 'A'], ['o^ʊ', 'O'],
    ['s^s', 'S'], ['t^s', 'ʦ'], ['t^ʃ', 'ʧ'], ['ɔ^ɪ', 'Y'], ['ə^ʊ', 'Q'],
  ])('maps %s to %s', (ipa, kokoro) => {
    expect(espeakToMisaki(`x${ipa}x`)).toBe(`x${kokoro}x`);
  });

  it('unties what it does not map, keeps nasal tildes, drops hyphens, restores parentheses, trims', () => {
    expect(espeakToMisaki(' fo^ɪ nˈɐ̃^ʊ̃ ')).toBe('foɪ nˈɐ̃ʊ̃');
    expect(espeakToMisaki('bˈe^ɪ-ŋ')).toBe('bˈAŋ');
    expect(espeakToMisaki('«tWvˈes»')).toBe('(tWvˈes)');
  });

  it('hides () as «» after turning «» into quotes, as misaki does before espeak', () => {
    expect(misakiPreprocess('«a» (b)')).toBe('“a” «b»');
  });
});

describe('phonemizer punctuation and line handling', () => {
  it('splits text from punctuation runs with their positions', () => {
    expect(splitPunctuation('Olá, tudo bem?')).toEqual({
      chunks: ['Olá', 'tudo bem'],
      marks: [{ text: ', ', position: 'I' }, { text: '?', position: 'E' }],
    });
    expect(splitPunctuation('¿Qué?').marks.map((m) => m.position)).toEqual(['B', 'E']);
    expect(splitPunctuation('!!!')).toEqual({ chunks: [], marks: [{ text: '!!!', position: 'A' }] });
    expect(splitPunctuation('sem pontos')).toEqual({ chunks: ['sem pontos'], marks: [] });
  });

  it('puts the marks back around the phonemized chunks', () => {
    const { marks } = splitPunctuation('“Olá, tudo bem?”');
    expect(restorePunctuation(['olˈa ', 'tˈudʊ bˈe^ɪŋ '], marks)).toBe('“olˈa, tˈudʊ bˈe^ɪŋ?” ');
    expect(restorePunctuation([], splitPunctuation('!!!').marks)).toBe('!!!');
    expect(restorePunctuation(['sow '], [])).toBe('sow ');
  });

  it('joins clauses, drops language-switch flags and rewrites ties as ^', () => {
    expect(postprocessClauses(['ˌely saˈiʊ', '', 'i nˌɐ̃\u0361ʊ̃'])).toBe('ˌely saˈiʊ i nˌɐ̃^ʊ̃ ');
    expect(postprocessClauses(['(en)fˈʊtbɔːl(pt) bˈoŋ'])).toBe('fˈʊtbɔːl bˈoŋ ');
    expect(postprocessClauses([''])).toBe('');
  });
});

describe('EspeakG2P on espeak-ng', () => {
  const g2p = new EspeakG2P();
  const dir = mkdtempSync(join(tmpdir(), 'voxq-g2p-'));
  const hanging = join(dir, 'hanging-espeak');
  writeFileSync(hanging, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(hanging, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs against espeak-ng 1.51, which the expected strings come from', () => {
    expect(execFileSync('espeak-ng', ['--version'], { encoding: 'utf8' })).toMatch(/text-to-speech: 1\.51\b/);
  });

  it.each(TABLE)('phonemizes %s', async (text, expected) => {
    const phonemes = await g2p.phonemize(text);
    expect(phonemes).toBe(expected);
    expect(tokenizePhonemes(phonemes).dropped).toEqual([]); // espeak's ũ is u + U+0303, both known
  });

  it('phonemizes a multi-line text in one call the same as line by line', async () => {
    const text = TABLE.map(([line]) => line).join('\n\n');
    expect(await g2p.phonemize(text)).toBe(TABLE.map(([, ps]) => ps).join(' '));
  });

  it('yields tokens Kokoro knows, all of them', async () => {
    const { ids, dropped } = tokenizePhonemes(await g2p.phonemize('Olá, tudo bem?'));
    expect(dropped).toEqual([]);
    expect(ids).toEqual(IDS[0]?.[1]);
  });

  it('refuses empty text', async () => {
    await expect(g2p.phonemize(' \n\t ')).rejects.toMatchObject({ kind: 'bad_request', provider: 'kokoro', retryable: false });
  });

  it('reports a missing binary as a retryable connection error', async () => {
    const missing = new EspeakG2P({ binary: join(dir, 'no-such-espeak') });
    const error: unknown = await missing.phonemize('Olá').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'connection', provider: 'kokoro', retryable: true });
  });

  it('reports an unknown voice as a bad request', async () => {
    await expect(new EspeakG2P({ language: 'xx-nope' }).phonemize('Olá')).rejects.toMatchObject({ kind: 'bad_request' });
  });

  it('stops espeak-ng when aborted, before or during the run', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(g2p.phonemize('Olá', controller.signal)).rejects.toMatchObject({ kind: 'aborted' });
    const during = new AbortController();
    const pending = new EspeakG2P({ binary: hanging }).phonemize('Olá', during.signal);
    during.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('times out a hung espeak-ng', async () => {
    await expect(new EspeakG2P({ binary: hanging, timeoutMs: 100 }).phonemize('Olá')).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('splitPhonemes', () => {
  const sentences = TABLE.map(([, ps]) => ps);
  const long = Array.from({ length: 12 }, () => sentences.join(' ')).join(' ');

  it('leaves a short text whole', () => {
    expect(splitPhonemes('  olˈa, tˈudʊ bˈAŋ? ')).toEqual(['olˈa, tˈudʊ bˈAŋ?']);
  });

  it('splits a 2,000-token text at sentence ends, each chunk ≤ 510 tokens, losing nothing', () => {
    expect(countPhonemeTokens(long)).toBeGreaterThan(2000);
    const chunks = splitPhonemes(long);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const chunk of chunks) expect(countPhonemeTokens(chunk)).toBeLessThanOrEqual(KOKORO_MAX_PHONEME_TOKENS);
    for (const chunk of chunks.slice(0, -1)) expect(chunk).toMatch(/[.!?…]”?$/u);
    expect(chunks.join(' ')).toBe(long);
  });

  it('falls back to clause marks, then spaces, then a hard cut', () => {
    expect(splitPhonemes('aa bb, cc dd', 9)).toEqual(['aa bb,', 'cc dd']);
    expect(splitPhonemes('aa bb cc dd', 9)).toEqual(['aa bb cc', 'dd']);
    expect(splitPhonemes('abcdefhijk', 4)).toEqual(['abcd', 'efhi', 'jk']);
  });

  it('keeps a closing quote with its sentence and does not count unknown symbols', () => {
    expect(splitPhonemes('“vˈAŋ?” sˈow bˈAŋ', 12)).toEqual(['“vˈAŋ?”', 'sˈow bˈAŋ']);
    expect(splitPhonemes('a^^^^^^^^ b', 3)).toEqual(['a^^^^^^^^ b']);
  });
});
