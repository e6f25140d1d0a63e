// The end of a turn, written once for every route: save the user's and the assistant's messages
// (once per turn), mark the turn completed, report it. On the stt-llm-tts and text-llm-tts
// routes the TTS stage finishes the turn. On audio-llm-tts the transcript may arrive after the
// reply audio (an STT job runs beside the LLM), so whichever of the two is recorded second
// finishes it: both stages record atomically and read the turn back, so at least one of them
// sees both, and a second finish changes nothing.
import { routeOf, type Turn } from '../shared/contracts/turn.js';
import { userText } from './user-input.js';
import type { StageDeps } from './stage-deps.js';

/** The reply audio is recorded and, where the user spoke, what they said. */
export function readyToFinish(turn: Turn): boolean {
  if (!turn.stages.tts) return false;
  return routeOf(turn) !== 'audio-llm-tts' || turn.stages.stt !== undefined;
}

export async function finishTurn(turn: Turn, deps: StageDeps): Promise<void> {
  if (!readyToFinish(turn)) return;
  const tts = turn.stages.tts?.output;
  await deps.sessions.addInteraction({
    sessionId: turn.sessionId,
    userMessage: userText(turn),
    assistantResponse: turn.stages.llm?.output.text ?? '',
    audioDurationMs: tts?.audio.durationMs,
    voiceUsed: turn.voice,
    turnId: turn.turnId,
  });
  if (await deps.turns.complete(turn.turnId, new Date())) {
    deps.metrics.increment('voxq.turns', 1, { outcome: 'completed' });
    deps.metrics.timing('voxq.turn.duration', Date.now() - turn.createdAt.getTime());
    // Enqueue → reply audio stored (one TTS job per turn today; the first sentence's once streaming lands).
    const audioAt = turn.stages.tts?.timing.finishedAt;
    if (audioAt) deps.metrics.timing('voxq.turn.time_to_first_audio', audioAt.getTime() - turn.createdAt.getTime());
    await deps.events.publish({ turnId: turn.turnId, status: 'completed' });
  }
}
