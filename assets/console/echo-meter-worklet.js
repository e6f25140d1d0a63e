// AudioWorklet processor for the echo guard: two inputs on one clock — 0 the microphone, 1 the
// reply being played — and, every 10 ms of audio, the RMS level of each posted to the page.
class EchoMeterProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate / 100);
    this.filled = 0;
    this.mic = 0;
    this.out = 0;
  }

  process(inputs) {
    const mic = inputs[0]?.[0];
    const out = inputs[1]?.[0];
    const length = mic?.length ?? out?.length ?? 128;
    for (let i = 0; i < length; i += 1) {
      const m = mic ? mic[i] : 0;
      const o = out ? out[i] : 0;
      this.mic += m * m;
      this.out += o * o;
      this.filled += 1;
      if (this.filled === this.frame) {
        this.port.postMessage([Math.sqrt(this.mic / this.frame), Math.sqrt(this.out / this.frame)]);
        this.filled = 0;
        this.mic = 0;
        this.out = 0;
      }
    }
    return true;
  }
}

registerProcessor('voxq-echo-meter', EchoMeterProcessor);
