// Property-based tests (fast-check) of what callers send: ids, the turn request, session
// requests, and the HTTP schemas (imported as they are). Whatever comes in, the answer is the
// value accepted or one InputError that names the field: never an exception of another kind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { checkSessionId, checkTurnId, newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { checkSessionRequest, MAX_METADATA_DEPTH, sessionMetadataSchema } from '../../src/shared/contracts/session-request.js';
import { MAX_TEXT_CHARS, turnRequestSchema, voiceSchema } from '../../src/shared/contracts/turn-request.js';
import { sessionIdSchema, turnIdSchema } from '../../src/shared/contracts/turn.js';
import { InputError } from '../../src/shared/errors.js';
import { inputErrorFrom } from '../../src/shared/zod-error.js';
import { corrupted, FIELDS, hasIdShape, hostileValue, mutatedId, validRequest } from './support/arbitraries.js';
import * as http from '../../src/producers/http/schemas.js';
import { parseInput } from '../../src/producers/http/validate.js';

const RUNS = { numRuns: 1000 };
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

describe('ids', () => {
  it.each([
    ['turn_', turnIdSchema, checkTurnId, newTurnId, 'invalid_turn_id'],
    ['sess_', sessionIdSchema, checkSessionId, newSessionId, 'invalid_session_id'],
  ] as const)('%s: a string of another shape is refused, every generated id accepted', (prefix, schema, check, make, code) => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutatedId(prefix), fc.uuid().map((u) => `${prefix}${u}`)), (value) => {
        const shaped = hasIdShape(value, prefix);
        expect(schema.safeParse(value).success).toBe(shaped);
        if (shaped) expect(check(value)).toBe(value);
        else expect(() => check(value)).toThrowError(expect.objectContaining({ code }) as Error);
      }),
      RUNS,
    );
    for (let i = 0; i < 200; i += 1) expect(check(make())).toMatch(new RegExp(`^${prefix}`));
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        expect(check(`${prefix}${uuid}`)).toBe(`${prefix}${uuid}`);
      }),
      RUNS,
    );
  });

  it('refuses non-strings and names what came instead, never echoing the value', () => {
    fc.assert(
      fc.property(fc.anything().filter((v) => typeof v !== 'string'), (value) => {
        expect(() => checkTurnId(value)).toThrowError(/^turnId must look like turn_<uuid>.*: got (an? \w+|null|an object|an array)$/);
      }),
      RUNS,
    );
    expect(() => checkSessionId({ $gt: '' })).toThrowError('sessionId must look like sess_<uuid> (lowercase hex and dashes): got an object');
    expect(() => checkSessionId(`sess_${'а'}${newSessionId().slice(6)}`)).toThrowError(/contains U\+0430$/);
    expect(() => checkTurnId(`${newTurnId()}\u0000`)).toThrowError(/contains U\+0000$/);
    expect(() => checkTurnId(`turn_../../${'a'.repeat(30)}`)).toThrowError(/contains "\."$/);
  });
});

// ---------------------------------------------------------------------------------------------
// The turn request.

describe('the turn request', () => {
  it('accepts every valid request as it is', () => {
    fc.assert(
      fc.property(validRequest, (req) => {
        const parsed = turnRequestSchema.safeParse(req);
        expect(parsed.error?.issues ?? []).toEqual([]);
        expect(parsed.data).toEqual(req);
      }),
      RUNS,
    );
  });

  it('refuses a request with any field made hostile, naming that field; parsing never throws', () => {
    fc.assert(
      fc.property(corrupted, ({ req, field }) => {
        const parsed = turnRequestSchema.safeParse(req);
        if (parsed.success) {
          // Only values that are in fact valid for the field pass.
          expect(FIELDS).toContain(field);
          return;
        }
        const error = inputErrorFrom(parsed.error, 'turn request');
        expect(error).toBeInstanceOf(InputError);
        expect(error.code).toBe('invalid_input');
        const named = error.message.includes(field) || /exactly one of audio or text/.test(error.message);
        expect(named, error.message).toBe(true);
      }),
      RUNS,
    );
  });

  it('refuses voices with $, NUL, .., /, spaces or look-alike letters, and NUL in text', () => {
    for (const voice of ['$pf_dora', 'pf\u0000dora', '../pf_dora', 'pf/dora', 'pf..dora', 'pf dora', 'pf_dоra' /* Cyrillic o */, ':pf', '.hidden', 'x'.repeat(101), '']) {
      expect(voiceSchema.safeParse(voice).success, JSON.stringify(voice)).toBe(false);
    }
    for (const voice of ['pf_dora', 'alloy', 'pt_BR-faber-medium', 'af_bella(2)+af_sky(1)', 'v1.5']) expect(voiceSchema.parse(voice)).toBe(voice);
    const base = { sessionId: newSessionId() };
    expect(turnRequestSchema.safeParse({ ...base, text: 'a\u0000b' }).error?.issues[0]).toMatchObject({ path: ['text'], message: 'text contains a NUL character' });
    expect(turnRequestSchema.safeParse({ ...base, text: 'a'.repeat(MAX_TEXT_CHARS + 1) }).error?.issues[0]?.path).toEqual(['text']);
    expect(turnRequestSchema.safeParse({ ...base, text: 'a'.repeat(MAX_TEXT_CHARS) }).success).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Sessions: userId and metadata.

const safeKey = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !k.startsWith('$') && !k.includes('.') && !CONTROL.test(k) && !['__proto__', 'constructor', 'prototype'].includes(k));
const { tree: metadataTree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.string({ maxLength: 30 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('tree'), { maxLength: 3 }), fc.dictionary(safeKey, tie('tree'), { maxKeys: 3 })),
}));
const safeMetadata = fc.dictionary(safeKey, metadataTree, { maxKeys: 5 }).filter((m) => depth(m) <= MAX_METADATA_DEPTH);

function depth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const inner = Object.values(value as Record<string, unknown>).map(depth);
  return 1 + Math.max(0, ...inner);
}

/** Puts a hostile key somewhere inside the metadata (at the top or nested). */
const operatorKey = fc.constantFrom('$gt', '$where', '$set', 'a.b', '.', 'x.$', '', 'a\u0000b', '__proto__', 'line\nbreak');

describe('session requests', () => {
  it('accepts JSON metadata with plain keys, as it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }).filter((u) => u.trim() !== '' && !CONTROL.test(u)), safeMetadata, (userId, metadata) => {
        expect(checkSessionRequest(userId, metadata)).toEqual({ userId, metadata });
        expect(sessionMetadataSchema.safeParse(metadata).success).toBe(true);
      }),
      RUNS,
    );
  });

  it('refuses a key MongoDB would read as an operator or a path, at any depth, naming where it is', () => {
    fc.assert(
      fc.property(safeMetadata, operatorKey, fc.array(safeKey, { maxLength: 3 }), (metadata, bad, path) => {
        let node: Record<string, unknown> = structuredClone(metadata);
        const root = node;
        for (const key of path) {
          const next: Record<string, unknown> = {};
          node[key] = next;
          node = next;
        }
        Object.defineProperty(node, bad, { value: 1, enumerable: true, configurable: true, writable: true });
        let error: unknown;
        try {
          checkSessionRequest('user', root);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InputError);
        expect(error).toMatchObject({ code: 'invalid_metadata' });
        expect((error as Error).message).toMatch(/^metadata/);
        const parsed = sessionMetadataSchema.safeParse(root);
        if (bad === '__proto__' && path.length === 0) {
          // zod's record drops an own __proto__ key at the top (and fastify refuses one in JSON).
          expect(Object.hasOwn(parsed.data ?? {}, '__proto__')).toBe(false);
        } else {
          expect(parsed.error?.issues).toHaveLength(1);
        }
      }),
      RUNS,
    );
    expect(() => checkSessionRequest('u', { a: { $gt: 1 } })).toThrowError('metadata.a["$gt"]: a metadata key must not start with "$" (MongoDB reads it as an operator)');
    expect(() => checkSessionRequest('u', { 'a.b': 1 })).toThrowError('metadata["a.b"]: a metadata key must not contain "." (MongoDB reads it as a path)');
  });

  it('refuses what is not JSON, too deep or too big, and a bad userId', () => {
    const cases: [unknown, unknown, string][] = [
      ['u', { f: () => 1 }, 'invalid_metadata'],
      ['u', { n: 1n }, 'invalid_metadata'],
      ['u', { d: new Date() }, 'invalid_metadata'],
      ['u', { n: NaN }, 'invalid_metadata'],
      ['u', { s: Symbol('x') }, 'invalid_metadata'],
      ['u', { big: 'x'.repeat(20_000) }, 'invalid_metadata'],
      ['u', JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)), 'invalid_metadata'],
      ['u', [], 'invalid_metadata'],
      ['u', 'metadata', 'invalid_metadata'],
      ['', {}, 'invalid_user_id'],
      ['   ', {}, 'invalid_user_id'],
      ['u\u0000', {}, 'invalid_user_id'],
      [{ $gt: '' }, {}, 'invalid_user_id'],
      ['x'.repeat(201), {}, 'invalid_user_id'],
    ];
    for (const [userId, metadata, code] of cases) {
      expect(() => checkSessionRequest(userId, metadata), JSON.stringify(userId)).toThrowError(expect.objectContaining({ code }) as Error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The HTTP schemas, as the routes use them (parseInput).

const jsonBody = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('sessionId', 'text', 'voice', 'language', 'speed', 'llm', 'turnId', 'bargeIn', 'userId', 'metadata', 'playedMs', 'limit', 'timeoutMs', 'index', '$where', '__proto__'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileValue.filter((v) => v === null || ['string', 'number', 'boolean', 'object'].includes(typeof v)))));
/** Multipart fields and query strings: strings only. */
const stringFields = fc.dictionary(fc.constantFrom('sessionId', 'voice', 'language', 'speed', 'llm', 'turnId', 'bargeIn', 'limit', 'timeoutMs', 'index', 'x'), fc.oneof(fc.string(), fc.constantFrom('{"$gt":""}', '{"systemPrompt":"x","temperature":9}', 'NaN', '1e999', '-1', 'true', '{', '0x10')));

const SCHEMAS: [string, z.ZodType, fc.Arbitrary<unknown>][] = [
  ['createSessionBody', http.createSessionBodySchema, jsonBody],
  ['textTurnBody', http.textTurnBodySchema, jsonBody],
  ['cancelBody', http.cancelBodySchema, jsonBody],
  ['audioTurnFields', http.audioTurnFieldsSchema, stringFields],
  ['sessionParams', http.sessionParamsSchema, stringFields],
  ['turnParams', http.turnParamsSchema, stringFields],
  ['sentenceParams', http.sentenceParamsSchema, stringFields],
  ['messagesQuery', http.messagesQuerySchema, stringFields],
  ['waitQuery', http.waitQuerySchema, stringFields],
];

describe('the HTTP schemas', () => {
  it.each(SCHEMAS)('%s: any body parses or is an InputError naming a field', (_name, schema, body) => {
    fc.assert(
      fc.property(body, (value) => {
        let error: unknown;
        try {
          parseInput(schema, value, 'request');
        } catch (e) {
          error = e;
        }
        if (error === undefined) return;
        expect(error).toBeInstanceOf(InputError);
        expect((error as Error).message).toMatch(/^invalid request: /);
        // Each problem names its field, or is about the whole body: not an object, unknown keys (named).
        for (const issue of schema.safeParse(value ?? {}).error?.issues ?? []) {
          const named = issue.path.length > 0 || issue.code === 'unrecognized_keys' || (issue.code === 'invalid_type' && issue.expected === 'object');
          expect(named, JSON.stringify(issue)).toBe(true);
          if (issue.path.length > 0) expect((error as Error).message).toContain(`${issue.path.join('.')}: `);
        }
      }),
      { numRuns: 500 },
    );
  });
});
