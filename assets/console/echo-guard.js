// Echo guard: tells the user's voice from the assistant's own voice coming back into the
// microphone (a speaker near the mic where the browser's echo cancellation leaves some through).
// The page knows what it plays, so it compares: the levels of the microphone and of the reply
// being played, every 10 ms on one audio clock (echo-meter-worklet.js). Where the microphone's
// level follows the reply's — at some delay up to MAX_LAG_MS, as an echo does — the sound is the
// reply's echo; where the reply is silent, or the microphone carries what the reply does not
// explain, it is the user. Hands-free asks it at the VAD's onset (before interrupting a reply)
// and again on each VAD frame of a segment it took for echo, so the user speaking over their own
// echo still interrupts.
const FRAME_MS = 10;
const HISTORY_FRAMES = 300;
const WINDOW_MS = 500;
const MAX_LAG_MS = 300;
/** Below this RMS the reply counts as silent (about -54 dBFS). */
const SILENT_RMS = 0.002;
/** Correlation of the two level curves at or above which the microphone is taken for echo. */
const ECHO_CORRELATION = 0.7;
const VOICE_MS = 200;
const VOICE_SHARE = 0.25;

/** Pearson correlation of two equal-length arrays (0 when either is flat). */
function correlation(a, b) {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i += 1) {
    sa += a[i];
    sb += b[i];
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i += 1) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}

export class EchoGuard {
  /** `context`: the player's AudioContext; `played`: the node the reply plays through. */
  constructor(context, played) {
    this.context = context;
    this.played = played;
    this.mic = [];
    this.out = [];
    /** Frames metered since listen(): a position segments are measured from. */
    this.frames = 0;
    this.node = undefined;
    this.source = undefined;
  }

  /** Starts metering `stream` (the microphone the VAD listens to) against the reply. */
  async listen(stream) {
    if (!this.node) {
      await this.context.audioWorklet.addModule(new URL('./echo-meter-worklet.js', import.meta.url));
      this.node = new AudioWorkletNode(this.context, 'voxq-echo-meter', { numberOfInputs: 2 });
      this.node.port.onmessage = (message) => this.push(message.data[0], message.data[1]);
      this.played.connect(this.node, 0, 1);
    }
    this.source?.disconnect();
    this.source = this.context.createMediaStreamSource(stream);
    this.source.connect(this.node, 0, 0);
  }

  push(mic, out) {
    this.frames += 1;
    this.mic.push(mic);
    this.out.push(out);
    if (this.mic.length > HISTORY_FRAMES) {
      this.mic.shift();
      this.out.shift();
    }
  }

  /**
   * 'echo' when the microphone's last WINDOW_MS follow the reply's level at some lag, 'speech'
   * otherwise (nothing played, or nothing metered yet). `correlation` says how closely.
   */
  classify() {
    const size = WINDOW_MS / FRAME_MS;
    const maxLag = MAX_LAG_MS / FRAME_MS;
    const n = this.mic.length;
    if (n < size) return { verdict: 'speech', correlation: 0 };
    const mic = this.mic.slice(n - size);
    const recentOut = this.out.slice(Math.max(0, n - size - maxLag));
    if (!recentOut.some((level) => level > SILENT_RMS)) return { verdict: 'speech', correlation: 0 };
    // A microphone quieter than the silence line while the reply plays brings nothing of the user's.
    if (mic.reduce((a, b) => a + b, 0) / size < SILENT_RMS) return { verdict: 'echo', correlation: 1 };
    let best = -1;
    for (let lag = 0; lag <= maxLag && n - size - lag >= 0; lag += 1) {
      best = Math.max(best, correlation(mic, this.out.slice(n - size - lag, n - lag)));
    }
    return { verdict: best >= ECHO_CORRELATION ? 'echo' : 'speech', correlation: Math.round(best * 100) / 100 };
  }

  /**
   * After the reply stopped playing: true when the microphone still carries a voice once its
   * echo has died away (the reply silent for MAX_LAG_MS + VOICE_MS) — the last VOICE_MS at least
   * VOICE_SHARE of the loudest the microphone was since frame `since` — i.e. the user went on
   * speaking in a segment that began on the reply's echo.
   */
  voiceAfterReply(since) {
    const voice = VOICE_MS / FRAME_MS;
    const quiet = (MAX_LAG_MS + VOICE_MS) / FRAME_MS;
    const n = this.mic.length;
    if (n < quiet) return false;
    if (this.out.slice(n - quiet).some((level) => level > SILENT_RMS)) return false;
    const start = Math.max(0, n - (this.frames - since));
    const peak = Math.max(...this.mic.slice(start));
    const recent = this.mic.slice(n - voice);
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    return peak > SILENT_RMS && mean >= VOICE_SHARE * peak;
  }
}
