// Many audio uploads at once against an API process capped at two (VOXQ_API_MAX_UPLOADS): those
// over the cap are refused with 503 too_many_uploads and retry-after before their body is read
// (a client that asks first never sends it), those within it are accepted, a client that leaves
// gives its slot back, oversized bodies answer 413 with a code, and the API answers afterwards.
// Slots are held by uploads that asked with Expect: 100-continue: the server's 100 says the slot
// is taken, so no test waits on timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDIO_BYTES } from '../../src/shared/audio/probe.js';
import { expectError, startApiHarness, type ApiHarness } from '../http/api-harness.js';
import { makeWav } from '../support/wav.js';
import { multipartBody, RawHttp, requestHead, type RawResponse } from './support/raw-http.js';

const MAX_UPLOADS = 2;

let api: ApiHarness;
let key: string;
let sessionId: string;
const wav = makeWav({ durationMs: 400 });
const open: RawHttp[] = [];

beforeAll(async () => {
  api = await startApiHarness({ env: { VOXQ_API_MAX_UPLOADS: String(MAX_UPLOADS) } });
  api.startWorkers();
  key = await api.key('turns:read', 'turns:write');
  sessionId = (await api.pipeline.client.createSession('upload-cap')).sessionId;
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((raw) => raw.destroy()));
  await api?.close();
});

/** An upload sent whole by fetch. */
function upload(audio: Uint8Array = wav): Promise<Response> {
  const form = new FormData();
  form.set('sessionId', sessionId);
  form.set('audio', new Blob([audio], { type: 'audio/wav' }), 'pergunta.wav');
  return api.fetch('/v1/turns', { method: 'POST', body: form, key });
}

/** An upload that asks first: its head is sent with Expect: 100-continue, its body when the test says. */
async function askingUpload(): Promise<{ raw: RawHttp; send(): Promise<RawResponse> }> {
  const raw = await RawHttp.open(api.url);
  open.push(raw);
  const { contentType, body } = multipartBody({ sessionId }, wav);
  raw.write(requestHead('POST', '/v1/turns', { authorization: `Bearer ${key}`, 'content-type': contentType, 'content-length': String(body.length), expect: '100-continue' }));
  return {
    raw,
    send: () => {
      raw.write(body);
      return raw.response();
    },
  };
}

function expectTooManyUploads(response: RawResponse): void {
  expect(response.status, response.body).toBe(503);
  expect(response.headers['retry-after']).toBe('1');
  const error = JSON.parse(response.body) as { code: string; message: string };
  expect(error.code).toBe('too_many_uploads');
  expect(error.message).toContain(`${MAX_UPLOADS} uploads`);
}

async function expectCompleted(turnIds: readonly string[]): Promise<void> {
  for (const turnId of turnIds) {
    const done = (await (await api.fetch(`/v1/turns/${turnId}/wait?timeoutMs=30000`, { key })).json()) as { status: string };
    expect(done.status, turnId).toBe('completed');
  }
}

const turnIdOf = (response: RawResponse): string => {
  expect(response.status, response.body).toBe(202);
  return (JSON.parse(response.body) as { turnId: string }).turnId;
};

describe('uploads over the cap', () => {
  it('refuses them with 503 too_many_uploads before reading their body, accepts those within it, and answers afterwards', async () => {
    const first = await askingUpload();
    await first.raw.continued();
    const second = await askingUpload();
    await second.raw.continued();

    // Asked first: refused at once, and its body was never sent.
    const third = await askingUpload();
    expectTooManyUploads(await third.raw.response());

    // Sent whole, many at once: each refused the same way.
    const crowd = await Promise.all(Array.from({ length: 8 }, () => upload()));
    for (const response of crowd) {
      expect(response.headers.get('retry-after')).toBe('1');
      await expectError(response, 503, 'too_many_uploads');
    }

    // The two within the cap send their audio and are accepted; their slots come back.
    const accepted = [turnIdOf(await first.send()), turnIdOf(await second.send())];
    const again = await Promise.all(Array.from({ length: MAX_UPLOADS }, () => upload()));
    for (const response of again) {
      expect(response.status, await response.clone().text()).toBe(202);
      accepted.push(((await response.json()) as { turnId: string }).turnId);
    }
    await expectCompleted(accepted);
    expect((await api.fetch('/healthz')).status).toBe(200);
  });

  it('gives a slot back when its client leaves mid-upload', async () => {
    const leaving = await askingUpload();
    await leaving.raw.continued();
    const staying = await askingUpload();
    await staying.raw.continued();
    leaving.raw.write(multipartBody({ sessionId }, wav).body.subarray(0, 200));
    await leaving.raw.destroy();

    const next = await askingUpload();
    await next.raw.continued();
    await expectCompleted([turnIdOf(await next.send()), turnIdOf(await staying.send())]);
  });

  it('answers each of many uploads at once with 202 or 503 too_many_uploads, and runs every accepted turn', async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, () => upload()));
    const accepted: string[] = [];
    for (const response of answers) {
      if (response.status === 202) {
        accepted.push(((await response.json()) as { turnId: string }).turnId);
      } else {
        expect(response.headers.get('retry-after')).toBe('1');
        await expectError(response, 503, 'too_many_uploads');
      }
    }
    // The first to arrive always finds a slot free.
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    await expectCompleted(accepted);
  });
});

describe('oversized bodies', () => {
  it('answers 413 body_too_large to a JSON body declared over the limit, before it is sent', async () => {
    const raw = await RawHttp.open(api.url);
    open.push(raw);
    raw.write(requestHead('POST', '/v1/turns', { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(2 ** 31) }));
    const response = await raw.response();
    expect(response.status, response.body).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'body_too_large' });
  });

  it('answers 413 audio_too_large to audio over 25 MiB, and its slot comes back', async () => {
    await expectError(await upload(new Uint8Array(MAX_AUDIO_BYTES + 1)), 413, 'audio_too_large');
    const answers = await Promise.all(Array.from({ length: MAX_UPLOADS }, () => upload()));
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: MAX_UPLOADS }, () => 202));
  });
});
