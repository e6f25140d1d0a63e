// The tts part: Kokoro's front end and where its inference runs. (1) G2P throughput: pt-BR
// sentences through normalisation + espeak-ng + misaki's mapping, in one call and one call per
// sentence; (2) the event loop during synthesis on the generated Kokoro model (cost set so one
// run() takes ≥ 200 ms here): event-loop delay p99 with synthesis threads and inline (threads 0),
// and the synthesis time threaded ÷ inline, rounds interleaved in the same run; (3) the same for
// many short syntheses, one sentence each (streamed replies are synthesized a sentence per job):
// back to back, then a few at once. On a small, shared machine p99 is noisy: each figure is the
// median of the rounds, and the ratios compare with inline measured in the same rounds.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { normalizePtBr } from '../src/shared/pt-br/normalize-text.js';
import { EspeakG2P } from '../src/shared/providers/kokoro/espeak-g2p.js';
import { defaultIntraOpThreads, KokoroTtsProvider } from '../src/shared/providers/kokoro/kokoro-tts.js';
import { layersForRunMs, timeRunMs } from '../tests/support/kokoro/calibrate.js';
import { makeKokoroFolder } from '../tests/support/kokoro/kokoro-folder.js';
import { profiled } from './support/cpu-profile.js';
import { benchLogger } from './support/log.js';
import { fig, median } from './support/stats.js';

export const TTS_HELP = `tts: Kokoro pt-BR front end and inference off the event loop (generated model, no weights)

  npm run bench -- tts [options]

  --run-ms N        target time of one model run() (default 250; at least 200 for the figures)
  --syntheses N     syntheses of a whole reply per mode per round (default 6)
  --short N         short sentences per mode per round, one synthesis each (default 20)
  --concurrency N   short syntheses at once in the second half of the short mode (default 3)
  --rounds N        rounds, threaded and inline interleaved (default 3)
  --sentences N     sentences for the G2P figure (default 300)
  --profile         also profile the event loop's thread over one threaded short pass: its busy
                    time per synthesis, and where it goes (stderr; VOXQ_BENCH_CPU_PROFILE_FILE
                    keeps the whole profile)

Figures: one JSON line on stdout (g2p_sentences_per_s, g2p_single_call_sentences_per_s,
event_loop_delay_p99_ms, event_loop_delay_p99_ms_unthreaded, event_loop_delay_p99_ms_short,
event_loop_delay_p99_ms_short_unthreaded, their ratios, event_loop_delay_p99_ms_idle (nothing
running: this machine's noise), main_thread_runqueue_wait_ms_per_s_* (Linux: the loop's thread
runnable but waiting for a core), thread_overhead_ratio, run_ms …).`;

const SENTENCES = [
  'Olá! Eu sou a assistente de voz. Como posso ajudar você hoje?',
  'O total ficou em R$ 3,50 e a entrega chega às 14h30 do dia 25/11.',
  'Amanhã a previsão é de sol, com máxima de 31 °C em São Paulo.',
  'Seu protocolo é 2.045 e o atendimento funciona das 8h às 18h.',
  'A reunião com o Dr. Paulo foi remarcada para o 3º andar.',
  'Não se preocupe: o pagamento de 15% de entrada já foi confirmado.',
];
const REPLY = 'Claro! A sua consulta foi marcada para amanhã às 9h, com o Dr. Silva. Leve um documento com foto.';
/** How long each round watches the loop with nothing running. */
const IDLE_MS = 3000;
/** What a streamed reply becomes: one sentence per TTS job. */
const SHORT_SENTENCES = [
  'Claro!',
  'Sua consulta foi marcada para amanhã às 9h.',
  'Leve um documento com foto.',
  'O pagamento já foi confirmado.',
  'Posso ajudar em mais alguma coisa?',
  'Tudo certo por aqui.',
  'O pedido saiu para entrega.',
  'Ele chega até as 18h.',
  'A previsão é de chuva à tarde.',
  'Não esqueça o guarda-chuva.',
  'Seu saldo é de R$ 42,50.',
  'A fatura vence no dia 10.',
  'Quer que eu agende um lembrete?',
  'Pronto, está agendado.',
  'Bom dia!',
  'A reunião começa em 15 minutos.',
  'O Dr. Paulo já está na sala.',
  'Vou repetir o endereço.',
  'Rua das Flores, número 120.',
  'Até logo!',
];
const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

async function g2pFigures(count: number): Promise<{ batched: number; single: number }> {
  const g2p = new EspeakG2P({ language: 'pt-br' });
  const texts = Array.from({ length: count }, (_, i) => normalizePtBr(SENTENCES[i % SENTENCES.length] ?? ''));
  await g2p.phonemize(texts.slice(0, 5).join(' '));
  let started = performance.now();
  await g2p.phonemize(texts.join('\n'));
  const batched = count / ((performance.now() - started) / 1000);
  const singles = texts.slice(0, Math.min(count, 60));
  started = performance.now();
  for (const text of singles) await g2p.phonemize(text);
  const single = singles.length / ((performance.now() - started) / 1000);
  return { batched, single };
}

interface ModeResult {
  delayP99Ms: number;
  delayMaxMs: number;
  synthesisMs: number[];
  /** The event loop thread's CPU time and its time runnable but waiting for a core, per second (NaN off Linux). */
  cpuMsPerS: number;
  waitMsPerS: number;
}

/** The main thread's [CPU ns, run-queue wait ns] (Linux schedstat); NaNs where there is none. */
function schedstat(): [number, number] {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return [cpu ?? Number.NaN, wait ?? Number.NaN];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/** Event-loop delay while `work` runs (5 ms timer resolution, as before). */
async function underHistogram(work: () => Promise<number[]>): Promise<ModeResult> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const [cpuBefore, waitBefore] = schedstat();
  const started = performance.now();
  histogram.enable();
  const synthesisMs = await work();
  histogram.disable();
  const seconds = (performance.now() - started) / 1000;
  const [cpuAfter, waitAfter] = schedstat();
  return {
    delayP99Ms: histogram.percentile(99) / 1e6,
    delayMaxMs: histogram.max / 1e6,
    synthesisMs,
    cpuMsPerS: (cpuAfter - cpuBefore) / 1e6 / seconds,
    waitMsPerS: (waitAfter - waitBefore) / 1e6 / seconds,
  };
}

async function timed(synthesis: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await synthesis();
  return performance.now() - started;
}

function measure(provider: KokoroTtsProvider, syntheses: number): Promise<ModeResult> {
  return underHistogram(async () => {
    const synthesisMs: number[] = [];
    for (let i = 0; i < syntheses; i += 1) synthesisMs.push(await timed(() => provider.synthesize(REPLY, PT_BR)));
    return synthesisMs;
  });
}

/**
 * `count` short sentences back to back, then the same again `concurrency` at a time (the times of
 * the back-to-back half only: at once, each also waits for the others).
 */
async function shortSyntheses(provider: KokoroTtsProvider, count: number, concurrency: number): Promise<number[]> {
  const sentences = Array.from({ length: count }, (_, i) => SHORT_SENTENCES[i % SHORT_SENTENCES.length] ?? 'Oi.');
  const synthesisMs: number[] = [];
  for (const sentence of sentences) synthesisMs.push(await timed(() => provider.synthesize(sentence, PT_BR)));
  const queue = [...sentences];
  const lane = async (): Promise<void> => {
    for (let sentence = queue.shift(); sentence !== undefined; sentence = queue.shift()) await provider.synthesize(sentence, PT_BR);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return synthesisMs;
}

function measureShort(provider: KokoroTtsProvider, count: number, concurrency: number): Promise<ModeResult> {
  return underHistogram(() => shortSyntheses(provider, count, concurrency));
}

/** The loop with nothing of ours running: this machine's own noise (other processes, the scheduler). */
function measureIdle(ms: number): Promise<ModeResult> {
  return underHistogram(async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return [];
  });
}

export async function runTts(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'run-ms': { type: 'string' },
      syntheses: { type: 'string' },
      short: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      sentences: { type: 'string' },
      profile: { type: 'boolean' },
    },
  });
  const targetRunMs = Number(values['run-ms'] ?? 250);
  const syntheses = Number(values.syntheses ?? 6);
  const shortCount = Number(values.short ?? 20);
  const concurrency = Number(values.concurrency ?? 3);
  const rounds = Number(values.rounds ?? 3);
  const log = benchLogger('bench-tts');

  const g2p = await g2pFigures(Number(values.sentences ?? 300));
  log.info({ batched: fig(g2p.batched), single: fig(g2p.single) }, 'g2p sentences per second');

  const layers = await layersForRunMs(targetRunMs);
  const runMs = await timeRunMs(layers, 3);
  log.info({ layers, runMs: fig(runMs) }, 'generated Kokoro model calibrated');
  const folder = await makeKokoroFolder({ layers });
  const make = (threads: number, intraOpThreads?: number): KokoroTtsProvider =>
    new KokoroTtsProvider({
      model: { model: 'bench', modelDir: folder.dir, cacheDir: `${folder.dir}/cache`, dtype: 'q8', ...(intraOpThreads ? { intraOpThreads } : {}) },
      device: 'cpu',
      threads,
    });
  // The product's defaults: one synthesis thread leaving a core to the loop, against inline
  // inference on every core; and inline with the threaded side's intra-op count, which isolates
  // what the thread itself costs.
  const threaded = make(1);
  const inline = make(0);
  const inlineSameCores = make(0, defaultIntraOpThreads(1));
  const results: Record<'threaded' | 'inline' | 'inlineSameCores' | 'shortThreaded' | 'shortInline' | 'idle', ModeResult[]> = {
    threaded: [],
    inline: [],
    inlineSameCores: [],
    shortThreaded: [],
    shortInline: [],
    idle: [],
  };
  let profile: Record<string, unknown> = {};
  try {
    await Promise.all([threaded.load(), inline.load(), inlineSameCores.load()]);
    for (const p of [threaded, inline, inlineSameCores]) await p.synthesize(REPLY, PT_BR);
    const p99 = (mode: keyof typeof results): number | null => fig(results[mode].at(-1)?.delayP99Ms ?? NaN);
    for (let round = 0; round < rounds; round += 1) {
      results.threaded.push(await measure(threaded, syntheses));
      results.inline.push(await measure(inline, syntheses));
      results.inlineSameCores.push(await measure(inlineSameCores, syntheses));
      results.shortThreaded.push(await measureShort(threaded, shortCount, concurrency));
      results.shortInline.push(await measureShort(inline, shortCount, concurrency));
      results.idle.push(await measureIdle(IDLE_MS));
      log.info(
        {
          round,
          threadedP99Ms: p99('threaded'),
          inlineP99Ms: p99('inline'),
          shortThreadedP99Ms: p99('shortThreaded'),
          shortInlineP99Ms: p99('shortInline'),
          idleP99Ms: p99('idle'),
        },
        'round done',
      );
    }
    if (values.profile) {
      const { summary } = await profiled(() => shortSyntheses(threaded, shortCount, concurrency));
      // Sampled wall time less idle: what the event loop's thread spent per synthesis.
      const busyMs = summary.totalMs - (summary.bucketsMs.idle ?? 0);
      log.info({ busyMs: fig(busyMs, 1), bucketsMs: summary.bucketsMs, top: summary.top }, 'event loop thread profile, threaded short syntheses');
      profile = { main_thread_busy_ms_per_short_synthesis: fig(busyMs / (shortCount * 2), 2) };
    }
  } finally {
    await Promise.all([threaded.close(), inline.close(), inlineSameCores.close()]);
    await folder.remove();
  }
  const synthesisThreaded = median(results.threaded.flatMap((r) => r.synthesisMs));
  const synthesisInline = median(results.inline.flatMap((r) => r.synthesisMs));
  const synthesisInlineSameCores = median(results.inlineSameCores.flatMap((r) => r.synthesisMs));
  const delayP99 = (mode: keyof typeof results): number => median(results[mode].map((r) => r.delayP99Ms));
  const synthesisShortThreaded = median(results.shortThreaded.flatMap((r) => r.synthesisMs));
  const synthesisShortInline = median(results.shortInline.flatMap((r) => r.synthesisMs));
  return {
    part: 'tts',
    g2p_sentences_per_s: fig(g2p.batched, 1),
    g2p_single_call_sentences_per_s: fig(g2p.single, 1),
    run_ms: fig(runMs, 1),
    model_layers: layers,
    event_loop_delay_p99_ms: fig(delayP99('threaded')),
    event_loop_delay_p99_ms_unthreaded: fig(delayP99('inline')),
    event_loop_delay_p99_ratio: fig(delayP99('threaded') / delayP99('inline'), 3),
    event_loop_delay_max_ms: fig(Math.max(...results.threaded.map((r) => r.delayMaxMs))),
    event_loop_delay_max_ms_unthreaded: fig(Math.max(...results.inline.map((r) => r.delayMaxMs))),
    synthesis_ms_threaded: fig(synthesisThreaded, 1),
    synthesis_ms_unthreaded: fig(synthesisInline, 1),
    thread_overhead_ratio: fig(synthesisThreaded / synthesisInline, 3),
    synthesis_ms_unthreaded_same_intra_op: fig(synthesisInlineSameCores, 1),
    thread_overhead_ratio_same_intra_op: fig(synthesisThreaded / synthesisInlineSameCores, 3),
    intra_op_threads: defaultIntraOpThreads(1) ?? null,
    short_syntheses: shortCount * 2,
    short_concurrency: concurrency,
    event_loop_delay_p99_ms_short: fig(delayP99('shortThreaded')),
    event_loop_delay_p99_ms_short_unthreaded: fig(delayP99('shortInline')),
    event_loop_delay_p99_ratio_short: fig(delayP99('shortThreaded') / delayP99('shortInline'), 3),
    event_loop_delay_max_ms_short: fig(Math.max(...results.shortThreaded.map((r) => r.delayMaxMs))),
    synthesis_ms_short_threaded: fig(synthesisShortThreaded, 1),
    synthesis_ms_short_unthreaded: fig(synthesisShortInline, 1),
    thread_overhead_ratio_short: fig(synthesisShortThreaded / synthesisShortInline, 3),
    event_loop_delay_p99_ms_idle: fig(delayP99('idle')),
    // Where a delay comes from: the loop's own work (CPU) or waiting for a core (other threads, other processes).
    main_thread_cpu_ms_per_s_short: fig(median(results.shortThreaded.map((r) => r.cpuMsPerS)), 1),
    main_thread_runqueue_wait_ms_per_s_short: fig(median(results.shortThreaded.map((r) => r.waitMsPerS)), 1),
    main_thread_runqueue_wait_ms_per_s_idle: fig(median(results.idle.map((r) => r.waitMsPerS)), 1),
    ...profile,
  };
}
