// The stream benchmark's consumer: a process other than the one that enqueues, reading turns'
// events with the SDK as a voice app's player would (`node --import tsx bench/support/stream-consumer.ts`,
// env as a voxq process: REDIS_URL, MONGO_URL, VOXQ_PREFIX, VOXQ_MONGO_DB). Each stdin line is a
// JSON request: {"turnId"} follows that turn and, at its end, prints one JSON line with when the
// first audio chunk was read (Date.now(), the same clock as the other processes of the machine);
// {"cmd":"mongo"} prints the MongoDB commands this process has sent so far, by name. Stdin's end
// closes it.
import { createInterface } from 'node:readline';
import { connect } from '../../src/producers/sdk/connect.js';
import { loadConfig, requireMongoUrl } from '../../src/shared/config.js';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { benchLogger } from './log.js';
import { MongoCommandCounter, withCommandMonitoring } from './mongo-commands.js';

/** What the consumer saw of one turn. */
export interface ConsumerTurnReport {
  type: 'turn';
  turnId: string;
  /** When the turn id reached this process. */
  followedAt: number;
  /** When its first event (accepted) was read: the turn found, its log followed. */
  firstEventAt: number | null;
  /** When the first sentence's chunk (its audio bytes) was read; null when none came. */
  firstAudioAt: number | null;
  firstAudioBytes: number;
  /** The first sentence event's own `at` (the TTS stage, as it delivered it). */
  firstSentenceAt: number | null;
  sentences: number;
  /** Each text delta's `at` (the LLM stage, as it logged the token), in order. */
  textAts: number[];
  status: string | null;
  endAt: number;
  error?: string;
}

export interface ConsumerMongoReport {
  type: 'mongo';
  counts: Record<string, number>;
}

const log = benchLogger('voxq-bench-stream-consumer');
const config = loadConfig();
const stores = await openMongoStores(withCommandMonitoring(requireMongoUrl(config)), config.VOXQ_MONGO_DB);
const counter = new MongoCommandCounter(stores.client);
const client = await connect({ config, stores });
const following = new Set<Promise<void>>();

const print = (report: ConsumerTurnReport | ConsumerMongoReport | { type: 'ready' }) => process.stdout.write(`${JSON.stringify(report)}\n`);

async function follow(turnId: string): Promise<void> {
  const report: ConsumerTurnReport = {
    type: 'turn',
    turnId,
    followedAt: Date.now(),
    firstEventAt: null,
    firstAudioAt: null,
    firstAudioBytes: 0,
    firstSentenceAt: null,
    sentences: 0,
    textAts: [],
    status: null,
    endAt: 0,
  };
  try {
    for await (const event of client.turnEvents(turnId)) {
      report.firstEventAt ??= Date.now();
      if (event.type === 'sentence') {
        if (report.firstAudioAt === null) {
          report.firstAudioAt = Date.now();
          report.firstAudioBytes = event.audio.bytes.byteLength;
          report.firstSentenceAt = event.at;
        }
        report.sentences += 1;
      } else if (event.type === 'text') {
        report.textAts.push(event.at);
      } else if (event.type === 'end') {
        report.status = event.status;
      }
    }
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  }
  report.endAt = Date.now();
  print(report);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let request: { turnId?: unknown; cmd?: unknown };
  try {
    request = JSON.parse(line) as { turnId?: unknown; cmd?: unknown };
  } catch {
    log.warn({ chars: line.length }, 'stream consumer: a request line is not JSON');
    return;
  }
  if (typeof request.turnId === 'string') {
    const done = follow(request.turnId).finally(() => following.delete(done));
    following.add(done);
  } else if (request.cmd === 'mongo') {
    print({ type: 'mongo', counts: counter.snapshot() });
  }
});

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  void (async () => {
    await Promise.race([Promise.all(following), new Promise((resolve) => setTimeout(resolve, 2000))]);
    await client.close();
    await stores.close();
    process.exit(0);
  })();
};
lines.on('close', close);
process.on('SIGTERM', close);
print({ type: 'ready' });
