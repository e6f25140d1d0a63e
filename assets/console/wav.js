// Recorded samples to a 16-bit PCM mono WAV (what POST /v1/turns uploads), and resampling to 16 kHz.
export const TARGET_RATE_HZ = 16000;

/** Mono Float32 samples at another rate, through the browser's own resampler (filtered, no aliasing). */
export async function resample(samples, fromHz, toHz = TARGET_RATE_HZ) {
  if (fromHz === toHz || samples.length === 0) return samples;
  const frames = Math.max(1, Math.floor((samples.length * toHz) / fromHz));
  const offline = new OfflineAudioContext(1, frames, toHz);
  const buffer = offline.createBuffer(1, samples.length, fromHz);
  buffer.copyToChannel(samples, 0);
  const source = offline.createBufferSource();
  source.buffer = buffer;
  source.connect(offline.destination);
  source.start();
  return (await offline.startRendering()).getChannelData(0);
}

export function encodeWav(samples, rateHz = TARGET_RATE_HZ) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (at, s) => { for (let i = 0; i < s.length; i += 1) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rateHz, true);
  view.setUint32(28, rateHz * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: 'audio/wav' });
}
