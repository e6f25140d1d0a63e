// The input a new turn is written with: audio checked (not empty, within the size limit, readable
// by ffprobe) and stored under the turn's id, so jobs carry only its reference; or text, trimmed.
import { MAX_AUDIO_BYTES, probeAudio } from '../../shared/audio/probe.js';
import type { TurnInput } from '../../shared/contracts/turn.js';
import { InputError } from '../../shared/errors.js';
import type { AudioStore } from '../../shared/ports/audio-store.js';

export interface AudioIntake {
  audio: AudioStore;
  /** ffprobe by default. */
  probe?: typeof probeAudio;
}

export async function storeAudioInput(audio: Uint8Array, turnId: string, intake: AudioIntake): Promise<TurnInput> {
  if (audio.byteLength === 0) throw new InputError('audio_empty', 'the audio is empty (0 bytes)');
  if (audio.byteLength > MAX_AUDIO_BYTES) {
    throw new InputError(
      'audio_too_large',
      `the audio is ${(audio.byteLength / 1048576).toFixed(1)} MB; the limit is ${MAX_AUDIO_BYTES / 1048576} MB per turn`,
    );
  }
  const probe = await (intake.probe ?? probeAudio)(audio);
  const stored = await intake.audio.put(audio, { mimeType: probe.mimeType, audioId: `${turnId}.input`, turnId });
  return {
    kind: 'audio',
    audio: { audioId: stored.audioId, mimeType: probe.mimeType, sizeBytes: audio.byteLength, durationMs: probe.durationMs },
  };
}

export function textInput(text: string): TurnInput {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError('text_empty', 'the text is empty');
  return { kind: 'text', text: trimmed };
}
