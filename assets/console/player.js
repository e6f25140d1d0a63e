// Reply playback through Web Audio: each sentence's chunk (a WAV in its `sentence` event) is
// decoded and scheduled right after the one before it, in index order whatever order decoding
// finishes in, so the sentences play gap-free. The first chunk of a reply (and one arriving after
// the audio ran dry) starts after a small jitter buffer. stop() silences everything at once and
// says how much audio was heard, back to back: what the cancel reports as playedMs.
const JITTER_S = 0.06;

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return bytes.buffer;
}

export class Player extends EventTarget {
  constructor() {
    super();
    this.context = undefined;
    this.reset();
  }

  /** Call from a user gesture (a key press, a click): browsers start audio only then. */
  unlock() {
    if (!this.context) {
      this.context = new AudioContext();
      // Every chunk plays through this node: the echo guard listens to it.
      this.output = this.context.createGain();
      this.output.connect(this.context.destination);
    }
    if (this.context.state === 'suspended') void this.context.resume();
  }

  /** Forgets the last reply (stop() it first). */
  reset() {
    this.generation = (this.generation ?? 0) + 1;
    this.pending = new Map();
    this.nextIndex = 0;
    this.scheduled = [];
    this.timers = [];
    this.endAt = 0;
    this.lastIndex = undefined;
  }

  /** A sentence's audio (its event's base64, or the bytes from its audioUrl); plays after every lower index has. */
  async push(index, audio) {
    this.unlock();
    const generation = this.generation;
    const bytes = typeof audio === 'string' ? bytesOf(audio) : await audio;
    if (generation !== this.generation) return;
    const buffer = await this.context.decodeAudioData(bytes);
    if (generation !== this.generation) return; // stopped or reset meanwhile
    this.pending.set(index, buffer);
    while (this.pending.has(this.nextIndex)) {
      const next = this.pending.get(this.nextIndex);
      this.pending.delete(this.nextIndex);
      this.schedule(this.nextIndex, next);
      this.nextIndex += 1;
    }
  }

  /** No chunk after this index will come: `drained` fires once it has played. */
  finish(lastIndex) {
    this.lastIndex = lastIndex;
    this.checkDrained();
  }

  get playing() {
    return this.scheduled.some((chunk) => !chunk.ended);
  }

  /** What the audio output adds after a sample is scheduled or stopped, as the browser reports it. */
  outputLatencyMs() {
    if (!this.context) return 0;
    return ((this.context.baseLatency ?? 0) + (this.context.outputLatency ?? 0)) * 1000;
  }

  /** Milliseconds of this reply's audio played so far. */
  playedMs() {
    if (!this.context) return 0;
    const now = this.context.currentTime;
    let played = 0;
    for (const chunk of this.scheduled) played += Math.min(Math.max(now - chunk.startAt, 0), chunk.duration);
    return played * 1000;
  }

  /** Silences the reply now; returns the ms that were heard. */
  stop() {
    const playedMs = this.playedMs();
    for (const timer of this.timers) clearTimeout(timer);
    for (const chunk of this.scheduled) {
      chunk.ended = true;
      try {
        chunk.source.stop();
      } catch {
        // never started
      }
    }
    this.reset();
    this.dispatchEvent(new CustomEvent('stopped', { detail: { playedMs } }));
    return playedMs;
  }

  schedule(index, buffer) {
    const context = this.context;
    const now = context.currentTime;
    // Right after the chunk before it (gap-free), unless the audio ran dry: then after the jitter buffer.
    const seamless = this.endAt > now + 0.005;
    const startAt = seamless ? this.endAt : now + JITTER_S;
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    source.start(startAt);
    this.endAt = startAt + buffer.duration;
    const chunk = { index, startAt, duration: buffer.duration, source, ended: false };
    this.scheduled.push(chunk);
    // performance.now() of the chunk's first sample, for the page's timings.
    const startsInMs = (startAt - now) * 1000;
    const wallStart = performance.now() + startsInMs;
    this.timers.push(setTimeout(() => this.dispatchEvent(new CustomEvent('chunkstart', { detail: { index, at: wallStart, seamless } })), startsInMs));
    source.onended = () => {
      if (chunk.ended) return;
      chunk.ended = true;
      this.dispatchEvent(new CustomEvent('chunkend', { detail: { index } }));
      this.checkDrained();
    };
  }

  checkDrained() {
    if (this.lastIndex === undefined || this.nextIndex <= this.lastIndex || this.playing) return;
    this.lastIndex = undefined;
    this.dispatchEvent(new CustomEvent('drained'));
  }
}
