// The tts part: Kokoro's front end and where its inference runs. (1) G2P throughput: pt-BR
// sentences through normalisation + espeak-ng + misaki's mapping, in one call and one call per
// sentence; (2) the event loop during synthesis on the generated Kokoro model (cost set so one
// run() takes ≥ 200 ms here): event-loop delay p99 with synthesis threads and inline (threads 0),
// and the synthesis time threaded ÷ inline, rounds interleaved in the same run.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { normalizePtBr } from '../src/shared/pt-br/normalize-text.js';
import { EspeakG2P } from '../src/shared/providers/kokoro/espeak-g2p.js';
import { defaultIntraOpThreads, KokoroTtsProvider } from '../src/shared/providers/kokoro/kokoro-tts.js';
import { layersForRunMs, timeRunMs } from '../tests/support/kokoro/calibrate.js';
import { makeKokoroFolder } from '../tests/support/kokoro/kokoro-folder.js';
import { benchLogger } from './support/log.js';
import { fig, median } from './support/stats.js';

export const TTS_HELP = `tts: Kokoro pt-BR front end and inference off the event loop (generated model, no weights)

  npm run bench -- tts [options]

  --run-ms N        target time of one model run() (default 250; at least 200 for the figures)
  --syntheses N     syntheses per mode per round (default 6)
  --rounds N        rounds, threaded and inline interleaved (default 3)
  --sentences N     sentences for the G2P figure (default 300)

Figures: one JSON line on stdout (g2p_sentences_per_s, g2p_single_call_sentences_per_s,
event_loop_delay_p99_ms, event_loop_delay_p99_ms_unthreaded, thread_overhead_ratio, run_ms …).`;

const SENTENCES = [
  'Olá! Eu sou a assistente de voz. Como posso ajudar você hoje?',
  'O total ficou em R$ 3,50 e a entrega chega às 14h30 do dia 25/11.',
  'Amanhã a previsão é de sol, com máxima de 31 °C em São Paulo.',
  'Seu protocolo é 2.045 e o atendimento funciona das 8h às 18h.',
  'A reunião com o Dr. Paulo foi remarcada para o 3º andar.',
  'Não se preocupe: o pagamento de 15% de entrada já foi confirmado.',
];
const REPLY = 'Claro! A sua consulta foi marcada para amanhã às 9h, com o Dr. Silva. Leve um documento com foto.';
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
}

async function measure(provider: KokoroTtsProvider, syntheses: number): Promise<ModeResult> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const synthesisMs: number[] = [];
  histogram.enable();
  for (let i = 0; i < syntheses; i += 1) {
    const started = performance.now();
    await provider.synthesize(REPLY, PT_BR);
    synthesisMs.push(performance.now() - started);
  }
  histogram.disable();
  return { delayP99Ms: histogram.percentile(99) / 1e6, delayMaxMs: histogram.max / 1e6, synthesisMs };
}

export async function runTts(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...argv],
    options: { 'run-ms': { type: 'string' }, syntheses: { type: 'string' }, rounds: { type: 'string' }, sentences: { type: 'string' } },
  });
  const targetRunMs = Number(values['run-ms'] ?? 250);
  const syntheses = Number(values.syntheses ?? 6);
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
  const results: { threaded: ModeResult[]; inline: ModeResult[]; inlineSameCores: ModeResult[] } = { threaded: [], inline: [], inlineSameCores: [] };
  try {
    await Promise.all([threaded.load(), inline.load(), inlineSameCores.load()]);
    for (const p of [threaded, inline, inlineSameCores]) await p.synthesize(REPLY, PT_BR);
    for (let round = 0; round < rounds; round += 1) {
      results.threaded.push(await measure(threaded, syntheses));
      results.inline.push(await measure(inline, syntheses));
      results.inlineSameCores.push(await measure(inlineSameCores, syntheses));
      log.info(
        { round, threadedP99Ms: fig(results.threaded.at(-1)?.delayP99Ms ?? NaN), inlineP99Ms: fig(results.inline.at(-1)?.delayP99Ms ?? NaN) },
        'round done',
      );
    }
  } finally {
    await Promise.all([threaded.close(), inline.close(), inlineSameCores.close()]);
    await folder.remove();
  }
  const synthesisThreaded = median(results.threaded.flatMap((r) => r.synthesisMs));
  const synthesisInline = median(results.inline.flatMap((r) => r.synthesisMs));
  const synthesisInlineSameCores = median(results.inlineSameCores.flatMap((r) => r.synthesisMs));
  return {
    part: 'tts',
    g2p_sentences_per_s: fig(g2p.batched, 1),
    g2p_single_call_sentences_per_s: fig(g2p.single, 1),
    run_ms: fig(runMs, 1),
    model_layers: layers,
    event_loop_delay_p99_ms: fig(median(results.threaded.map((r) => r.delayP99Ms))),
    event_loop_delay_p99_ms_unthreaded: fig(median(results.inline.map((r) => r.delayP99Ms))),
    event_loop_delay_max_ms: fig(Math.max(...results.threaded.map((r) => r.delayMaxMs))),
    event_loop_delay_max_ms_unthreaded: fig(Math.max(...results.inline.map((r) => r.delayMaxMs))),
    synthesis_ms_threaded: fig(synthesisThreaded, 1),
    synthesis_ms_unthreaded: fig(synthesisInline, 1),
    thread_overhead_ratio: fig(synthesisThreaded / synthesisInline, 3),
    synthesis_ms_unthreaded_same_intra_op: fig(synthesisInlineSameCores, 1),
    thread_overhead_ratio_same_intra_op: fig(synthesisThreaded / synthesisInlineSameCores, 3),
    intra_op_threads: defaultIntraOpThreads(1) ?? null,
  };
}
