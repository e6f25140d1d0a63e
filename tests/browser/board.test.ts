// Bull Board in headless Chromium (Debian's `chromium`, driven by playwright-core): refused
// without credentials; with a board:read key it shows the voxq queues and a job from a real
// turn with no retry/clean/remove actions; with board:admin the actions are there, and signed in
// by cookie they work from the page (Bull Board's UI echoes the CSRF token).
// Screenshots go to tests/output/browser/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../http/api-harness.js';

const CHROMIUM = process.env.VOXQ_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'output', 'browser');

let h: ApiHarness;
let browser: Browser;
let turnId: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set VOXQ_CHROMIUM)`);
  await mkdir(SHOTS, { recursive: true });
  h = await startApiHarness();
  h.startWorkers();
  const writer = await h.key('turns:read', 'turns:write');
  const { sessionId } = (await (await h.fetch('/v1/sessions', { key: writer, json: { userId: 'board' } })).json()) as { sessionId: string };
  ({ turnId } = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'Olá, quadro!' } })).json()) as { turnId: string });
  const done = (await (await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=30000`, { key: writer })).json()) as { status: string };
  expect(done.status).toBe('completed');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${h.url}/admin/login`);
  await page.fill('#key', key);
  await Promise.all([page.waitForURL(/\/admin\/queues/), page.click('button[type=submit]')]);
}

/** Bull Board's job and queue actions, by their visible text or icon. */
const ACTIONS: [string, string][] = [
  ['Retry all', 'button:has-text("Retry all")'],
  ['Clean all', 'button:has-text("Clean all")'],
  ['retry', 'button:has(svg.lucide-refresh-cw)'],
  ['remove', 'button:has(svg.lucide-trash-2)'],
  ['duplicate', 'button:has(svg.lucide-files)'],
  ['queue menu', 'button:has(svg.lucide-ellipsis-vertical)'],
];

/** The actions present on the page. */
async function actionButtons(page: Page): Promise<string[]> {
  const present: string[] = [];
  for (const [name, selector] of ACTIONS) if ((await page.locator(selector).count()) > 0) present.push(name);
  return present;
}

async function openCompletedJob(page: Page, base: string, queue: string): Promise<void> {
  await page.goto(`${h.url}${base}/queue/${queue}?status=completed`);
  await page.getByText(`${turnId}.${queue}`).waitFor();
  // The job's data is readable: references only.
  await page.getByText(`"${turnId}"`).waitFor();
}

describe('Bull Board behind API keys', () => {
  it('refuses the board without credentials, with a bad key, and without a board scope', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${h.url}/admin/queues`);
    expect(response?.status()).toBe(401);
    await expect.poll(() => page.locator('#key').count()).toBe(1);
    expect(await page.locator('#root').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, '1-refused.png') });
    for (const path of ['/admin/queues/api/queues', '/admin/queues-read-only/api/queues', '/admin/queues-read-only']) {
      expect((await page.request.get(`${h.url}${path}`)).status(), path).toBe(401);
    }
    // A wrong key at the login form, then a key without a board scope.
    await page.goto(`${h.url}/admin/login`);
    await page.fill('#key', 'voxq_nope');
    await page.click('button[type=submit]');
    await page.getByText('unknown, malformed or revoked').waitFor();
    const turnsOnly = await h.key('turns:read');
    expect((await page.request.get(`${h.url}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${turnsOnly}` } })).status()).toBe(403);
    await context.close();
  });

  it('board:read signs in to the read-only board: queues and a real turn’s job, no actions', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, await h.key('board:read'));
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/queues-read-only/);
    for (const queue of ['stt', 'llm', 'tts']) await page.getByRole('link', { name: queue, exact: true }).first().waitFor();
    await openCompletedJob(page, '/admin/queues-read-only', 'llm');
    await page.screenshot({ path: join(SHOTS, '2-read-only-job.png'), fullPage: true });
    expect(await actionButtons(page)).toEqual([]);

    // The full board's pages send this key to the read-only board; its API refuses the key.
    await page.goto(`${h.url}/admin/queues/queue/llm?status=completed`);
    expect(new URL(page.url()).pathname).toBe('/admin/queues-read-only/queue/llm');
    expect((await page.request.put(`${h.url}/admin/queues/api/queues/llm/clean/completed`)).status()).toBe(403);
    // The read-only board's own API refuses actions too (Bull Board's read-only mode), CSRF token or not.
    expect((await page.request.put(`${h.url}/admin/queues-read-only/api/queues/llm/clean/completed`)).status()).toBe(403);
    const csrf = (await context.cookies(h.url)).find((c) => c.name === 'voxq_csrf')?.value ?? '';
    const clean = await page.request.put(`${h.url}/admin/queues-read-only/api/queues/llm/clean/completed`, { headers: { 'x-csrf-token': csrf } });
    expect(clean.status()).toBeGreaterThanOrEqual(400);
    expect(await h.pipeline.queues.get('llm').getJobState(`${turnId}.llm`)).toBe('completed');
    await context.close();
  });

  it('board:admin signs in with the form (a session cookie, not the key): the UI’s actions carry the CSRF token', async () => {
    const key = await h.key('board:admin');
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, key);
    expect(new URL(page.url()).pathname).toBe('/admin/queues');
    const cookies = await context.cookies(h.url);
    const session = cookies.find((c) => c.name === 'voxq_session');
    expect(session).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(JSON.stringify(cookies)).not.toContain(key.slice(22));
    // A forged write without the token is refused; the board's own "Clean all" sends it (X-XSRF-TOKEN).
    expect((await page.request.put(`${h.url}/admin/queues/api/queues/tts/clean/completed`)).status()).toBe(403);
    const tts = h.pipeline.queues.get('tts');
    expect(await tts.getCompletedCount()).toBeGreaterThan(0);
    await page.goto(`${h.url}/admin/queues/queue/tts?status=completed`);
    const sent = page.waitForRequest((request) => request.method() === 'PUT' && request.url().includes('/api/queues/tts/clean/completed'));
    await page.locator('button:has-text("Clean all")').first().click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    const boardCsrf = (await context.cookies(`${h.url}/admin/queues`)).find((c) => c.name === 'XSRF-TOKEN')?.value;
    expect(boardCsrf).toBe(cookies.find((c) => c.name === 'voxq_csrf')?.value);
    expect((await sent).headers()['x-xsrf-token']).toBe(boardCsrf);
    await expect.poll(() => tts.getCompletedCount()).toBe(0);
    await page.screenshot({ path: join(SHOTS, '4-admin-cleaned.png'), fullPage: true });
    await context.close();
  });

  it('board:admin (a bearer key) gets the full board with retry, clean and remove', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${await h.key('board:admin')}` } });
    const page = await context.newPage();
    await page.goto(`${h.url}/admin/queues`);
    for (const queue of ['stt', 'llm', 'tts']) await page.getByRole('link', { name: queue, exact: true }).first().waitFor();
    await openCompletedJob(page, '/admin/queues', 'llm');
    expect(new URL(page.url()).pathname).toBe('/admin/queues/queue/llm');
    await page.screenshot({ path: join(SHOTS, '3-admin-job.png'), fullPage: true });
    expect(await actionButtons(page)).toEqual(expect.arrayContaining(['Retry all', 'Clean all', 'retry', 'remove', 'duplicate', 'queue menu']));
    await context.close();
  });
});
