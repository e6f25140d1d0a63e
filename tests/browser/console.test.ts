// The voice console in headless Chromium (Debian's `chromium`, driven by playwright-core) with a
// fake microphone playing espeak-ng's pt-BR speech, in front of the API and workers with fake
// providers of fixed delays (each reply sentence takes the TTS a while, so a reply streams).
// Asserted: order and outcome, never wall-clock limits. The page's own log (window.voxqConsole.log)
// says what it did, in order: SSE events received, chunks started, playback stopped, cancels.
// Screenshots of the idle, listening, speaking and interrupted states go to tests/output/console/.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { startApiHarness, type ApiHarness } from '../http/api-harness.js';
import { FAKE_MICROPHONE_SCRIPT, type FakeMic } from '../support/fake-microphone.js';
import { speakPtBr } from '../support/speech.js';

const CHROMIUM = process.env.VOXQ_CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(import.meta.dirname, '..', 'output', 'console');
/** Four sentences: the TTS takes TTS_LATENCY_MS over each, so the reply streams sentence by sentence. */
const REPLY = ['Claro, posso ajudar com isso agora.', 'O frete chega em dois dias úteis.', 'A entrega é feita pelos Correios.', 'Quer que eu confirme o pedido?'];
const TTS_LATENCY_MS = 700;
/** The API exports no traces here (no traceId): the link is by turn id. */
const TRACE_TEMPLATE = 'http://traces.invalid/search?tags=voxq.turn.id%3D{turnId}';

interface LogEntry {
  kind: string;
  at: number;
  type?: string;
  index?: number;
  status?: string;
  playedMs?: number;
  turnId?: string;
  state?: string;
  cancelled?: boolean;
  reason?: string;
  sessionId?: string;
  seamless?: boolean;
}

let h: ApiHarness;
let browser: Browser;
let writer: string;
/** Everything the pages printed, and every address they asked for. */
const consoleLines: string[] = [];
const requested: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set VOXQ_CHROMIUM)`);
  await mkdir(OUT, { recursive: true });
  const speech = join(OUT, 'speech.wav');
  await writeFile(speech, await speakPtBr('Olá! Qual é o prazo do frete para São Paulo?'));
  h = await startApiHarness({
    llm: { replies: () => REPLY.join(' ') },
    tts: { latencyMs: TTS_LATENCY_MS, msPerChar: 30 },
    env: { VOXQ_TRACE_URL_TEMPLATE: TRACE_TEMPLATE },
  });
  h.startWorkers();
  writer = await h.key('turns:read', 'turns:write');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${speech}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => consoleLines.push(message.text()));
  page.on('request', (request) => requested.push(request.url()));
  return { context, page };
}

/** Signs in at /console's own page, then waits for the console to be ready. */
async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${h.url}/console`);
  await page.fill('#key', key);
  await Promise.all([page.waitForURL(/\/console$/), page.click('button[type=submit]')]);
  await page.waitForSelector('body[data-state="idle"]');
}

/** A 16-bit PCM WAV's samples (after its 44-byte header, as the page writes it), as magnitudes. */
function pcmSamples(bytes: Uint8Array | undefined): number[] {
  if (!bytes) return [0];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 44; at + 1 < bytes.byteLength; at += 2) out.push(Math.abs(view.getInt16(at, true)));
  return out;
}

const pageLog = (page: Page) => page.evaluate(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log);

/** Holds space while the fake microphone speaks about a second, then releases it; returns the turn's id. */
async function speak(page: Page, shot?: string): Promise<string> {
  const before = (await pageLog(page)).filter((e) => e.kind === 'accepted').length;
  await page.keyboard.down('Space');
  await page.waitForSelector('body[data-state="listening"]');
  await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { recordedMs(): number } }).voxqConsole.recordedMs() > 1200);
  if (shot) await page.screenshot({ path: join(OUT, shot) });
  await page.keyboard.up('Space');
  await page.waitForFunction((n) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === 'accepted').length > n, before);
  const accepted = (await pageLog(page)).filter((e) => e.kind === 'accepted');
  return accepted[accepted.length - 1]?.turnId ?? '';
}

describe('the voice console', () => {
  it('without a sign-in, /console is the sign-in page (200, whatever Accept); a key lacking turns:write is refused with a message', async () => {
    for (const accept of ['text/html', 'application/json', '*/*']) {
      const res = await h.fetch('/console', { headers: { accept } });
      expect(res.status, accept).toBe(200);
      expect(await res.text()).toContain('<form method="post" action="/login">');
    }
    const { context, page } = await newPage();
    const readOnly = await h.key('turns:read');
    await page.goto(`${h.url}/console`);
    await page.fill('#key', readOnly);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login')), page.click('button[type=submit]')]);
    expect(response.status()).toBe(403);
    await page.getByRole('alert').getByText('turns:write').waitFor();
    expect((await context.cookies(h.url)).map((c) => c.name)).not.toContain('voxq_session');

    // Signed in elsewhere with a key the console cannot use: the sign-in page, naming the scope (403).
    const login = await h.fetch('/login', { json: { key: await h.key('board:read', 'turns:read') } });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const refused = await h.fetch('/console', { headers: { cookie } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('turns:write');
    // The console itself may reach this server only (its Content-Security-Policy).
    const consolePage = await h.fetch('/console', { key: writer });
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers.get('content-security-policy')).toContain("connect-src 'self'");
    // Only the console's own files are served.
    expect((await h.fetch('/console/assets/main.js')).headers.get('content-type')).toContain('text/javascript');
    expect((await h.fetch('/console/vendor/ort/ort-wasm-simd-threaded.wasm', { method: 'HEAD' })).headers.get('content-type')).toBe('application/wasm');
    for (const path of ['/console/assets/nope.js', '/console/assets/..%2F..%2Fpackage.json', '/console/vendor/vad/package.json', '/console/vendor/ort/ort.node.min.js']) {
      expect((await h.fetch(path)).status, path).toBe(404);
    }
    await context.close();
  });

  it('a key bound to one user: the console’s sessions are that user’s', async () => {
    const { key } = await h.api.keys.create({ scopes: ['turns:read', 'turns:write'], binding: { userId: 'ana' } });
    const { context, page } = await newPage();
    await signIn(page, key);
    const sessionId = (await pageLog(page)).find((e) => e.kind === 'session')?.sessionId ?? '';
    const session = (await (await h.fetch(`/v1/sessions/${sessionId}`, { key: writer })).json()) as { userId: string };
    expect(session.userId).toBe('ana');
    expect(await page.locator('.notice').count()).toBe(0);
    await context.close();
  });

  it('a spoken turn: the transcript, the reply streaming, its first audio playing before the turn’s end arrives, chunks in order', async () => {
    const { context, page } = await newPage();
    await signIn(page, writer);
    await page.screenshot({ path: join(OUT, '1-idle.png') });
    const turnId = await speak(page, '2-listening.png');
    await page.waitForSelector('body[data-state="speaking"]');
    await page.screenshot({ path: join(OUT, '3-speaking.png') });
    const item = page.locator(`li[data-turn-id="${turnId}"]`);
    await item.locator('.transcript', { hasText: 'olá' }).waitFor();
    await page.waitForFunction(
      (id) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === 'chunk-start' && e.turnId === id).length === 4,
      turnId,
    );
    await page.waitForSelector('body[data-state="idle"]');
    await item.locator('.timings', { hasText: 'total' }).waitFor();
    expect(await item.getAttribute('data-status')).toBe('completed');
    expect(await item.locator('.reply').textContent()).toBe(REPLY.join(' '));

    const log = (await pageLog(page)).filter((e) => e.turnId === turnId);
    const firstAudio = log.findIndex((e) => e.kind === 'chunk-start');
    const end = log.findIndex((e) => e.kind === 'event' && e.type === 'end');
    expect(firstAudio).toBeGreaterThanOrEqual(0);
    expect(firstAudio, 'the first chunk plays before the end event arrives').toBeLessThan(end);
    expect(log.filter((e) => e.kind === 'chunk-start').map((e) => e.index)).toEqual([0, 1, 2, 3]);
    // Each later chunk was scheduled to start exactly where the one before it ends (it arrived before that: no gap).
    expect(log.filter((e) => e.kind === 'chunk-start').map((e) => e.seamless)).toEqual([false, true, true, true]);
    expect(log.find((e) => e.kind === 'event' && e.type === 'end')?.status).toBe('completed');
    expect(Number(await item.getAttribute('data-speech-to-audio-ms'))).toBeGreaterThan(0);
    expect(await item.locator('a.trace').getAttribute('href')).toBe(TRACE_TEMPLATE.replace('{turnId}', turnId));
    // What the page uploaded: 16 kHz mono 16-bit WAV of the held second and more (the STT got it as sent).
    const uploaded = readWavInfo(h.pipeline.stt.lastCall?.audio.bytes ?? new Uint8Array());
    expect(uploaded).toMatchObject({ sampleRateHz: 16_000, channels: 1, bitsPerSample: 16 });
    expect(uploaded?.durationMs).toBeGreaterThan(1200);
    expect(Math.max(...pcmSamples(h.pipeline.stt.lastCall?.audio.bytes))).toBeGreaterThan(1000); // the speech, not silence

    // No key anywhere the page keeps things: its URL, storage, cookies (the sign-in's token only).
    const secret = writer.slice(22);
    const stored = await page.evaluate<string>('JSON.stringify([location.href, { ...localStorage }, { ...sessionStorage }, document.cookie])');
    expect(stored).not.toContain(secret);
    expect(JSON.stringify(await context.cookies(h.url))).not.toContain(secret);
    await context.close();
  });

  it('Esc during the reply stops playback before the next chunk, cancels with playedMs; the turn ends interrupted and the history shows the cut reply', async () => {
    const { context, page } = await newPage();
    await signIn(page, writer);
    const turnId = await speak(page);
    await page.waitForFunction(
      (id) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'chunk-start' && e.turnId === id && e.index === 0),
      turnId,
    );
    await page.keyboard.press('Escape');
    const item = page.locator(`li[data-turn-id="${turnId}"]`);
    await page.waitForSelector(`li[data-turn-id="${turnId}"][data-status="interrupted"]`);
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'cancel'));
    await page.screenshot({ path: join(OUT, '4-interrupted.png') });
    expect(await page.getAttribute('body', 'data-state')).toBe('interrupted');

    const log = await pageLog(page);
    const stopped = log.findIndex((e) => e.kind === 'stopped' && e.turnId === turnId);
    expect(stopped).toBeGreaterThanOrEqual(0);
    expect(log.filter((e) => e.kind === 'chunk-start' && e.turnId === turnId).map((e) => e.index), 'no later chunk played').toEqual([0]);
    const cancel = log.find((e) => e.kind === 'cancel' && e.turnId === turnId);
    expect(cancel?.cancelled).toBe(true);
    expect(cancel?.playedMs).toBeGreaterThan(0);
    const end = log.find((e) => e.kind === 'event' && e.type === 'end' && e.turnId === turnId);
    expect(end?.status).toBe('interrupted');

    // The API agrees, and the stored reply is what was heard: a cut of the first sentence at most.
    const turn = (await (await h.fetch(`/v1/turns/${turnId}`, { key: writer })).json()) as { status: string; sessionId: string };
    expect(turn.status).toBe('interrupted');
    const { messages } = (await (await h.fetch(`/v1/sessions/${turn.sessionId}/messages`, { key: writer })).json()) as { messages: { role: string; content: string }[] };
    const heard = messages.filter((m) => m.role === 'assistant').at(-1)?.content ?? '';
    expect(REPLY.join(' ').startsWith(heard)).toBe(true);
    expect(heard.length).toBeLessThan(REPLY.join(' ').length);
    expect(await item.locator('.heard').textContent()).toBe(heard);
    expect(await item.locator('.unheard').textContent()).not.toBe('');
    await context.close();
  });

  it('Esc after the turn completed on the server, while its reply still plays: the stored history is cut where playback stopped', async () => {
    const { context, page } = await newPage();
    await signIn(page, writer);
    const turnId = await speak(page);
    // The whole reply is synthesized (its end event is in) before its last chunk has started playing.
    await page.waitForFunction(
      (id) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'event' && e.type === 'end' && e.turnId === id),
      turnId,
    );
    const before = await pageLog(page);
    expect(before.some((e) => e.kind === 'chunk-start' && e.turnId === turnId && e.index === REPLY.length - 1), 'the last chunk has not started yet').toBe(false);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: (LogEntry & { cut?: boolean })[] } }).voxqConsole.log.some((e) => e.kind === 'heard'));
    const log = (await pageLog(page)) as (LogEntry & { cut?: boolean })[];
    const heardEntry = log.find((e) => e.kind === 'heard' && e.turnId === turnId);
    expect(heardEntry?.cut).toBe(true);
    const turn = (await (await h.fetch(`/v1/turns/${turnId}`, { key: writer })).json()) as { status: string; sessionId: string };
    expect(turn.status).toBe('completed');
    const { messages } = (await (await h.fetch(`/v1/sessions/${turn.sessionId}/messages`, { key: writer })).json()) as { messages: { role: string; content: string; interrupted?: boolean }[] };
    const reply = messages.filter((m) => m.role === 'assistant').at(-1);
    expect(REPLY.join(' ').startsWith(reply?.content ?? 'none')).toBe(true);
    expect(reply?.content.length).toBeLessThan(REPLY.join(' ').length);
    expect(reply?.interrupted).toBe(true);
    await context.close();
  });

  it('says clearly when the microphone is refused or no worker serves a stage; English on request', async () => {
    const { context, page } = await newPage();
    await context.addInitScript('navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));');
    // The API's real answer, with the tts stage's workers gone.
    await page.route('**/v1/stages', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { stages: { stage: string; live: boolean; workers: number }[] };
      for (const stage of body.stages) if (stage.stage === 'tts') Object.assign(stage, { live: false, workers: 0 });
      await route.fulfill({ response, json: body });
    });
    await signIn(page, writer);
    await page.locator('[data-notice="stageDown"]', { hasText: 'Nenhum worker está servindo a etapa tts' }).waitFor();
    await page.keyboard.down('Space');
    await page.locator('[data-notice="micRefused"]', { hasText: 'microfone foi recusado' }).waitFor();
    await page.keyboard.up('Space');
    expect(await page.getAttribute('body', 'data-state')).toBe('idle');
    await page.selectOption('#ui-lang', 'en');
    await page.getByRole('button', { name: 'Hold to talk (space)' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    // Signing out ends the sign-in: the console is the sign-in page again.
    await Promise.all([page.waitForURL(/\/console$/), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.locator('#key').waitFor();
    expect((await context.cookies(h.url)).map((c) => c.name)).not.toContain('voxq_session');
    await context.close();
  });

  it('hands-free: the VAD (served by voxq) starts and ends a turn; a short noise during the reply does not interrupt, a second utterance does', async () => {
    // The third sentence's synthesis waits until the turn is cancelled: the turn is still running when the reply is cut.
    const tts = h.pipeline.tts;
    const synthesize = tts.synthesize.bind(tts);
    tts.synthesize = async (text, options) => {
      if (text.includes('Correios') && !options.signal?.aborted) await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
      return synthesize(text, options);
    };
    onTestFinished(() => {
      tts.synthesize = synthesize;
    });
    const { context, page } = await newPage();
    // A microphone the test speaks into when it chooses: the page's getUserMedia gets a stream fed from an AudioContext.
    await context.addInitScript(FAKE_MICROPHONE_SCRIPT);
    await signIn(page, writer);
    await page.check('#hands-free');
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'vad-ready'));
    const utterance = Buffer.from(await speakPtBr('Quero saber quando chega o meu pedido.')).toString('base64');
    const say = (offsetMs?: number, durationMs?: number) => page.evaluate(([b64, o, d]) => (globalThis as unknown as { fakeMic: FakeMic }).fakeMic.say(b64, o, d), [utterance, offsetMs, durationMs] as const);

    await say();
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'chunk-start'));
    const first = (await pageLog(page)).find((e) => e.kind === 'accepted')?.turnId ?? '';
    await page.screenshot({ path: join(OUT, '5-hands-free-speaking.png') });

    // A 150 ms burst of speech: the VAD hears it through (a few hundred ms of frames) and the reply goes on.
    await say(400, 150);
    const frames = await page.evaluate(() => (globalThis as unknown as { voxqConsole: { vadFrames: number } }).voxqConsole.vadFrames);
    await page.waitForFunction((n) => (globalThis as unknown as { voxqConsole: { vadFrames: number } }).voxqConsole.vadFrames > n + 16, frames);
    expect((await pageLog(page)).filter((e) => e.kind === 'stopped'), 'a short noise does not interrupt').toEqual([]);
    expect(await page.getAttribute('body', 'data-state')).toBe('speaking');

    // Speaking over the reply: stopped at the VAD's onset, cancelled with playedMs, then the new turn runs.
    const speaking = say();
    await page.waitForSelector(`li[data-turn-id="${first}"][data-status="interrupted"]`);
    await speaking;
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === 'accepted').length === 2);
    const log = await pageLog(page);
    const onset = log.findIndex((e) => e.kind === 'vad-speech-start' && log.indexOf(e) > log.findIndex((x) => x.kind === 'chunk-start'));
    const stopped = log.findIndex((e) => e.kind === 'stopped');
    expect(log[stopped]).toMatchObject({ turnId: first, reason: 'speech' });
    expect(onset).toBeGreaterThanOrEqual(0);
    expect(onset).toBeLessThan(stopped);
    expect(log.slice(stopped).filter((e) => e.kind === 'chunk-start' && e.turnId === first), 'no chunk of the cut reply after the stop').toEqual([]);
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'cancel'));
    const cancel = (await pageLog(page)).find((e) => e.kind === 'cancel');
    expect(cancel?.playedMs).toBeGreaterThan(0);
    const turn = (await (await h.fetch(`/v1/turns/${first}`, { key: writer })).json()) as { status: string };
    expect(turn.status).toBe('interrupted');
    // The VAD's files all came from voxq.
    expect(requested.some((url) => url.endsWith('/console/vendor/vad/silero_vad_v5.onnx'))).toBe(true);
    expect(requested.some((url) => url.endsWith('/console/vendor/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
    await context.close();
  });

  it('hands-free: the reply’s own voice coming back into the microphone neither interrupts it nor starts a turn; the user speaking over it still does', async () => {
    // The reply is speech (espeak-ng says each sentence) and the page's playback is fed back into its microphone.
    const tts = h.pipeline.tts;
    const synthesize = tts.synthesize.bind(tts);
    tts.synthesize = async (text, options) => {
      const timed = await synthesize(text, options);
      const bytes = await speakPtBr(text);
      const info = readWavInfo(bytes);
      if (!info) throw new Error('espeak-ng gave no WAV');
      return { bytes, durationMs: info.durationMs, format: { ...timed.format, sampleRateHz: info.sampleRateHz } };
    };
    onTestFinished(() => {
      tts.synthesize = synthesize;
    });
    const { context, page } = await newPage();
    await context.addInitScript(FAKE_MICROPHONE_SCRIPT);
    await signIn(page, writer);
    await page.check('#hands-free');
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'vad-ready'));
    // A speaker beside the microphone, echo cancellation letting it all through: 0.8 of the reply, 40 ms late.
    await page.evaluate(() => (globalThis as unknown as { fakeMic: FakeMic }).fakeMic.echo(0.8, 40));
    const utterance = Buffer.from(await speakPtBr('Quero saber quando chega o meu pedido.')).toString('base64');
    const say = () => page.evaluate((b64) => (globalThis as unknown as { fakeMic: FakeMic }).fakeMic.say(b64), utterance);
    const count = (kind: string) => page.evaluate((k) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === k).length, kind);

    // Turn 1: its whole reply plays into the microphone. The VAD hears it as speech (echo-ignored says so), the guard knows it for the reply.
    await say();
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'event' && e.type === 'end'));
    await page.waitForFunction(() => {
      const log = (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log;
      const lastChunk = log.findLastIndex((e) => e.kind === 'chunk-end' && e.index === 3);
      return lastChunk >= 0 && log.slice(lastChunk).some((e) => e.kind === 'state' && e.state === 'idle');
    });
    // The echo's last VAD segment ends a redemption period after the reply: wait for the VAD to hear that through.
    const frames = await page.evaluate(() => (globalThis as unknown as { voxqConsole: { vadFrames: number } }).voxqConsole.vadFrames);
    await page.waitForFunction((n) => (globalThis as unknown as { voxqConsole: { vadFrames: number } }).voxqConsole.vadFrames > n + 30, frames);
    let log = await pageLog(page);
    expect(log.filter((e) => e.kind === 'echo-ignored').length, 'the VAD heard the reply’s echo as speech').toBeGreaterThan(0);
    expect(log.filter((e) => e.kind === 'stopped'), 'the echo interrupted nothing').toEqual([]);
    expect(await count('accepted'), 'the echo started no turn').toBe(1);
    const first = log.find((e) => e.kind === 'accepted')?.turnId ?? '';
    const firstEnd = log.find((e) => e.kind === 'event' && e.type === 'end');
    expect(firstEnd?.status).toBe('completed');
    expect(log.filter((e) => e.kind === 'chunk-start' && e.turnId === first).map((e) => e.index)).toEqual([0, 1, 2, 3]);

    // Turn 2: the user speaks over its reply, echo and all: playback stops and the turn is cancelled.
    await say();
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === 'accepted').length === 2);
    const second = (await pageLog(page)).filter((e) => e.kind === 'accepted')[1]?.turnId ?? '';
    await page.waitForFunction((id) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'chunk-start' && e.turnId === id && e.index === 1), second);
    const speaking = say();
    await page.waitForFunction((id) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.some((e) => e.kind === 'stopped' && e.turnId === id), second);
    await speaking;
    log = await pageLog(page);
    expect(log.find((e) => e.kind === 'stopped')).toMatchObject({ turnId: second, reason: 'speech' });
    await page.waitForFunction(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === 'accepted').length === 3);
    await context.close();
  });

  it('the pages asked only voxq for anything, and printed no key', () => {
    const origin = new URL(h.url).origin;
    expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'))).toEqual([]);
    expect(consoleLines.join('\n')).not.toContain(writer.slice(22));
    expect(consoleLines.filter((line) => line.includes('Content Security Policy'))).toEqual([]);
  });
});
