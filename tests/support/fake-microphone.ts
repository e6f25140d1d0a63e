// A microphone a test (or benchmark) speaks into when it chooses: an init script for a Chromium
// page whose getUserMedia answers a stream fed from an AudioContext. `fakeMic.say(base64)` plays
// a WAV into it (whole, or a slice from offsetMs lasting durationMs) and resolves when it ends.
// Chromium's own --use-file-for-fake-audio-capture loops one file from the start; this one is
// silent until told to speak, so each utterance lands where the test needs it.

export interface FakeMic {
  say(base64: string, offsetMs?: number, durationMs?: number): Promise<void>;
}

export const FAKE_MICROPHONE_SCRIPT = `(() => {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  globalThis.fakeMic = {
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
