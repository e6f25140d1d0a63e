// fast-check arbitraries for hostile input: ids with one character gone wrong, valid turn
// requests, and the same with one field replaced by something hostile.
import fc from 'fast-check';
import { MAX_TEXT_CHARS } from '../../../src/shared/contracts/turn-request.js';

/** Characters that have broken key schemes, queries and paths elsewhere. */
export const TRICKS = [':', '$', '.', '/', '\\', '\u0000', '\n', ' ', '{', '}', '*', '?', '%', '"', "'", 'а' /* Cyrillic a */, 'е' /* Cyrillic e */, '０', 'Ａ', 'A', 'F', 'g', '\u200b', '\u202e', '\ufeff', '\ud800', '😀', '-'];

/** The id shape, written independently of the schema: prefix, then 36 of [0-9a-f-]. */
export function hasIdShape(value: string, prefix: string): boolean {
  return value.length === prefix.length + 36 && value.startsWith(prefix) && [...value.slice(prefix.length)].every((c) => '0123456789abcdef-'.includes(c));
}

/** A valid id with one character replaced, inserted or removed, or the prefix changed. */
export const mutatedId = (prefix: string) =>
  fc.tuple(fc.uuid(), fc.nat(), fc.constantFrom(...TRICKS), fc.constantFrom('replace', 'insert', 'delete', 'prefix', 'suffix')).map(([uuid, at, trick, how]) => {
    const id = `${prefix}${uuid}`;
    const i = prefix.length + (at % 36);
    switch (how) {
      case 'replace':
        return id.slice(0, i) + trick + id.slice(i + 1);
      case 'insert':
        return id.slice(0, i) + trick + id.slice(i);
      case 'delete':
        return id.slice(0, i) + id.slice(i + 1);
      case 'prefix':
        return trick + id.slice(1);
      case 'suffix':
        return id + trick;
    }
  });

export const voiceName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_+()-]{0,40}$/);
const language = fc.constantFrom('pt-BR', 'en', 'en-US', 'es', 'pt', 'zh-Hans-CN');
const safeText = fc.string({ minLength: 1, maxLength: 300 }).filter((t) => !t.includes('\u0000'));

export const validRequest = fc.record(
  {
    sessionId: fc.uuid().map((u) => `sess_${u}`),
    text: safeText,
    voice: voiceName,
    language,
    speed: fc.double({ min: 0.5, max: 2, noNaN: true }),
    llm: fc.record(
      { systemPrompt: fc.string({ minLength: 1, maxLength: 200 }), temperature: fc.double({ min: 0, max: 2, noNaN: true }), maxTokens: fc.integer({ min: 1, max: 32_768 }) },
      { requiredKeys: [] },
    ),
    turnId: fc.uuid().map((u) => `turn_${u}`),
    bargeIn: fc.boolean(),
  },
  { requiredKeys: ['sessionId', 'text'] },
);

/** Hostile values for any field: wrong types, operators, tricks, huge strings. */
export const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom<unknown>({ $gt: '' }, { $ne: null }, { $where: 'sleep(1000)' }, ['$gt'], 'x'.repeat(MAX_TEXT_CHARS + 1), '', '\u0000', NaN, Infinity, -0, 1e308, null),
  fc.constantFrom(...TRICKS).chain((t) => fc.string().map((s) => `${s}${t}${s}`)),
  mutatedId('sess_'),
  mutatedId('turn_'),
);

export const FIELDS = ['sessionId', 'audio', 'text', 'voice', 'language', 'speed', 'llm', 'turnId', 'bargeIn'] as const;

/** A valid request with one field replaced by a hostile value, or an unknown field added. */
export const corrupted = fc.tuple(validRequest, fc.constantFrom<string>(...FIELDS, '__proto__', '$where', 'sessionId.$gt', 'constructor', 'extra'), hostileValue).map(([req, field, value]) => {
  const out: Record<string, unknown> = { ...req };
  Object.defineProperty(out, field, { value, enumerable: true, configurable: true, writable: true });
  return { req: out, field };
});

