// A microphone a test (or benchmark) speaks into when it chooses: an init script for a Chromium
// page whose getUserMedia answers a stream fed from an AudioContext. `fakeMic.say(base64)` plays
// a WAV into it (whole, or a slice from offsetMs lasting durationMs) and resolves when it ends.
// Chromium's own --use-file-for-fake-audio-capture loops one file from the start; this one is
// silent until told to speak, so each utterance lands where the test needs it.
// `fakeMic.echo(gain, delayMs)` also feeds what the page plays back into the microphone, as a
// speaker beside the mic would with echo cancellation failing: every GainNode the page connects
// to its speakers (the console's playback path) is tapped; gain 0 (the default) is no echo.

export interface FakeMic {
  say(base64: string, offsetMs?: number, durationMs?: number): Promise<void>;
  echo(gain: number, delayMs: number): void;
}

export const FAKE_MICROPHONE_SCRIPT = `(() => {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  const echoDelay = context.createDelay(1);
  const echoGain = context.createGain();
  echoGain.gain.value = 0;
  echoDelay.connect(echoGain).connect(destination);
  const connect = AudioNode.prototype.connect;
  const tapped = new WeakMap();
  AudioNode.prototype.connect = function (target, ...rest) {
    const result = connect.call(this, target, ...rest);
    if (target instanceof AudioDestinationNode && this instanceof GainNode && target.context !== context) {
      let tap = tapped.get(target.context);
      if (!tap) {
        tap = target.context.createMediaStreamDestination();
        tapped.set(target.context, tap);
        connect.call(context.createMediaStreamSource(tap.stream), echoDelay);
      }
      connect.call(this, tap);
    }
    return result;
  };
  globalThis.fakeMic = {
    echo(gain, delayMs) {
      void context.resume();
      echoGain.gain.value = gain;
      echoDelay.delayTime.value = delayMs / 1000;
    },
    async say(base64, offsetMs, durationMs) {
      await context.resume();
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const buffer = await context.decodeAudioData(bytes.buffer);
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(destination);
      const ended = new Promise((resolve) => { source.onended = resolve; });
      source.start(0, (offsetMs ?? 0) / 1000, durationMs === undefined ? undefined : durationMs / 1000);
      await ended;
    },
  };
  navigator.mediaDevices.getUserMedia = async () => destination.stream;
})();`;
