// Hands-free: Silero VAD in the page (@ricky0123/vad-web on onnxruntime-web), every file served
// by voxq itself — the page is told where (baseAssetPath, onnxWASMBasePath), so the package's
// CDN defaults are never used. The microphone asks for echo cancellation, and the stream the VAD
// hears is handed to the page (onStream) for its echo guard: what echo cancellation lets through
// of the assistant's own voice is told from the user's (echo-guard.js). Speech that lasts the barge-in threshold (minSpeechMs,
// default 300 ms: a cough or a click does not) calls onSpeechOnset — the moment to interrupt a
// reply — and its end hands the utterance over as 16 kHz WAV.
import { MIC_CONSTRAINTS } from './recorder.js';
import { encodeWav } from './wav.js';

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const existing = document.querySelector(`script[src="${src}"]`);
    if (existing) return resolve();
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

export class HandsFree {
  constructor(paths, minSpeechMs, handlers) {
    this.paths = paths;
    this.minSpeechMs = minSpeechMs;
    this.handlers = handlers;
    this.vad = undefined;
    this.active = false;
  }

  async start() {
    if (!this.vad) {
      await loadScript(this.paths.ortScript);
      await loadScript(this.paths.script);
      this.vad = await window.vad.MicVAD.new({
        model: 'v5',
        baseAssetPath: this.paths.baseAssetPath,
        onnxWASMBasePath: this.paths.onnxWASMBasePath,
        minSpeechMs: this.minSpeechMs,
        redemptionMs: 400,
        startOnLoad: false,
        getStream: () => this.open(),
        resumeStream: () => this.open(),
        ortConfig: (ort) => {
          ort.env.logLevel = 'error';
          ort.env.wasm.numThreads = 1; // no cross-origin isolation needed
        },
        onSpeechStart: () => this.handlers.onSpeechStart(),
        onSpeechRealStart: () => this.handlers.onSpeechOnset(),
        onSpeechEnd: (audio) => this.handlers.onSpeechEnd(encodeWav(audio)),
        onVADMisfire: () => this.handlers.onMisfire(),
        onFrameProcessed: () => this.handlers.onFrame(),
      });
    }
    await this.vad.start();
    this.active = true;
  }

  async open() {
    const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    await this.handlers.onStream(stream);
    return stream;
  }

  async pause() {
    this.active = false;
    await this.vad?.pause();
  }
}
