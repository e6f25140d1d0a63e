// How a finished turn reads on a terminal (stdout: it is the command's output).
import type { TurnResult } from './sdk/turn-result.js';

export function formatTurnResult(result: TurnResult): string {
  const lines: string[] = [];
  if (result.transcription !== undefined) lines.push(`you said:   ${result.transcription}`);
  lines.push(`reply:      ${result.replyText}`);
  lines.push(
    `audio:      ${result.replyAudio.format.container} ${result.replyAudio.format.sampleRateHz} Hz, ${(result.replyAudio.durationMs / 1000).toFixed(2)} s, ${result.replyAudio.bytes.byteLength} bytes`,
  );
  const stage = (name: 'stt' | 'llm' | 'tts') => {
    const t = result.timing[name];
    return t ? `${name} ${t.queueWaitMs.toFixed(0)} ms wait + ${t.workMs.toFixed(0)} ms work${t.attempts > 1 ? ` (${t.attempts} attempts)` : ''}` : undefined;
  };
  const stages = (['stt', 'llm', 'tts'] as const).map(stage).filter(Boolean).join(' · ');
  lines.push(`timing:     ${stages} · total ${result.timing.totalMs.toFixed(0)} ms`);
  // How soon the reply started: its first token and its first audio chunk, in ms after enqueue.
  const { firstTokenMs, firstAudioMs } = result.timing;
  const firsts = [
    ...(firstTokenMs !== undefined ? [`first token ${firstTokenMs.toFixed(0)} ms`] : []),
    ...(firstAudioMs !== undefined ? [`first audio ${firstAudioMs.toFixed(0)} ms`] : []),
  ];
  if (firsts.length > 0) lines.push(`latency:    ${firsts.join(' · ')} after enqueue`);
  lines.push(`turn:       ${result.turnId} (session ${result.sessionId})`);
  return lines.join('\n');
}
