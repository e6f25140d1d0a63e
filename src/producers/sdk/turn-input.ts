// The input a new turn is written with: audio checked (not empty, within the size and length
// limits, in an accepted container, readable by ffprobe) and named for storage under the turn's
// id, so jobs carry only its reference; or text, trimmed.
import { MAX_TURN_AUDIO_MS, tooLong } from '../../shared/audio/audio-limits.js';
import { MAX_AUDIO_BYTES, probeAudio } from '../../shared/audio/probe.js';
import type { TurnInput } from '../../shared/contracts/turn.js';
import { InputError } from '../../shared/errors.js';

/**
 * Checks the audio (not empty, within the size and length limits, readable) and names where it
 * will be stored; nothing is written. The length is the one the audio declares: nothing decodes
 * it here (decoding stops at the limit too: audio-limits.ts).
 */
export async function checkAudioInput(audio: Uint8Array, turnId: string, probe?: typeof probeAudio): Promise<{ input: Extract<TurnInput, { kind: 'audio' }> }> {
  if (audio.byteLength === 0) throw new InputError('audio_empty', 'the audio is empty (0 bytes)');
  if (audio.byteLength > MAX_AUDIO_BYTES) {
    throw new InputError(
      'audio_too_large',
      `the audio is ${(audio.byteLength / 1048576).toFixed(1)} MB; the limit is ${MAX_AUDIO_BYTES / 1048576} MB per turn`,
    );
  }
  const probed = await (probe ?? probeAudio)(audio, { maxDurationMs: MAX_TURN_AUDIO_MS });
  // Also when an injected probe does not check it.
  if (probed.durationMs > MAX_TURN_AUDIO_MS) throw tooLong(probed.durationMs, MAX_TURN_AUDIO_MS, 'declared');
  return {
    input: {
      kind: 'audio',
      audio: { audioId: `${turnId}.input`, mimeType: probed.mimeType, sizeBytes: audio.byteLength, durationMs: probed.durationMs },
    },
  };
}

export function textInput(text: string): TurnInput {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError('text_empty', 'the text is empty');
  return { kind: 'text', text: trimmed };
}
