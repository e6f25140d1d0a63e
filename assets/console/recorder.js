// Push-to-talk capture: the microphone (echo cancellation asked) through an AudioWorklet, kept
// only between start() and stop(), which returns 16 kHz mono WAV. The stream stays open between
// turns so the next press records at once.
import { encodeWav, resample, TARGET_RATE_HZ } from './wav.js';

export const MIC_CONSTRAINTS = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

export class Recorder {
  constructor() {
    this.context = undefined;
    this.blocks = [];
    this.recording = false;
  }

  /** Opens the microphone (asks permission the first time); throws the browser's error when refused. */
  async open() {
    if (this.context) return;
    const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    const context = new AudioContext();
    await context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url));
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'voxq-capture');
    node.port.onmessage = (message) => {
      if (this.recording) this.blocks.push(message.data);
    };
    source.connect(node);
    this.stream = stream;
    this.context = context;
  }

  /** Milliseconds captured since start(). */
  get recordedMs() {
    if (!this.context) return 0;
    return (this.blocks.reduce((n, b) => n + b.length, 0) / this.context.sampleRate) * 1000;
  }

  async start() {
    await this.open();
    if (this.context.state === 'suspended') await this.context.resume();
    this.blocks = [];
    this.recording = true;
  }

  /** The recording as 16 kHz WAV, with its length in ms. */
  async stop() {
    this.recording = false;
    const length = this.blocks.reduce((n, b) => n + b.length, 0);
    const samples = new Float32Array(length);
    let at = 0;
    for (const block of this.blocks) {
      samples.set(block, at);
      at += block.length;
    }
    this.blocks = [];
    const pcm = await resample(samples, this.context.sampleRate, TARGET_RATE_HZ);
    return { wav: encodeWav(pcm), durationMs: (pcm.length / TARGET_RATE_HZ) * 1000 };
  }
}
