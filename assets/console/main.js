// The voice console: push-to-talk (hold space or the button) or hands-free (the browser VAD),
// one turn at a time through voxq's HTTP API — upload, follow its events, play each sentence as
// it arrives — and barge-in (Esc, or speaking over the reply) that stops playback at once and
// cancels the turn with how much was heard. window.voxqConsole.log records what happened, in
// order (events, chunks played, stops, cancels), for tests and curious people; it holds no key.
import { api, ApiError, followTurn } from './api.js';
import { EchoGuard } from './echo-guard.js';
import { HandsFree } from './hands-free.js';
import { language, setLanguage, t } from './i18n.js';
import { Player } from './player.js';
import { Recorder } from './recorder.js';
import { TurnView } from './turn-view.js';

const settings = JSON.parse(document.getElementById('console-settings').textContent);
const $ = (id) => document.getElementById(id);
const history = $('history');
const LANG_PREF = 'voxq-console-lang';
const MIN_RECORDING_MS = 250;

const recorder = new Recorder();
const log = [];
window.voxqConsole = { log, recordedMs: () => recorder.recordedMs, vadFrames: 0 };
const record = (kind, detail = {}) => log.push({ kind, at: performance.now(), ...detail });

const player = new Player();
let handsFree;
let echoGuard;
/** The VAD's segment being heard: {since (echo guard frame), echo (taken for the reply's echo so far), heard (frames since that look like the user)}. */
let segment;
let sessionId;
let state = 'loading';
/** The turn being heard: {turnId, view, speechEndAt, firstAudioAt, sentences, texts, end, cut, stop}. */
let current;

function setState(next) {
  state = next;
  document.body.dataset.state = next;
  $('talk').setAttribute('aria-pressed', String(next === 'listening'));
  const key = next === 'idle' && handsFree?.active ? 'idleHandsFree' : next;
  $('status').textContent = t(key);
  record('state', { state: next });
}

function notice(key, values = {}) {
  const line = document.createElement('p');
  line.className = 'notice';
  line.dataset.notice = key;
  line.textContent = t(key, values);
  $('notices').append(line);
}

function clearNotices(key) {
  for (const el of $('notices').querySelectorAll(key ? `[data-notice="${key}"]` : '.notice')) el.remove();
}

/** An API refusal as the page says it: signed out, a missing scope, or the server's message. */
function apiProblem(error) {
  if (error instanceof ApiError && error.status === 401) notice('signedOut');
  else if (error instanceof ApiError && error.status === 403) notice('missingScope', { message: error.message });
  else notice('requestFailed', { message: error instanceof Error ? error.message : String(error) });
}

function micProblem(error) {
  notice(error?.name === 'NotFoundError' ? 'micMissing' : 'micRefused');
  record('mic-refused', { name: error?.name });
}

async function loadStages() {
  const { stages } = await api.stages();
  const tts = stages.find((s) => s.stage === 'tts');
  const voice = $('voice');
  voice.replaceChildren(...(tts?.voices ?? []).map((v) => new Option(v, v, v === tts.defaultVoice, v === tts.defaultVoice)));
  const languages = [...new Set(stages.flatMap((s) => s.languages))];
  const defaultLanguage = stages.find((s) => s.stage === 'stt')?.defaultLanguage;
  $('turn-lang').replaceChildren(...languages.map((l) => new Option(l, l, l === defaultLanguage, l === defaultLanguage)));
  clearNotices('stageDown');
  for (const stage of stages) if (!stage.live) notice('stageDown', { stage: stage.stage });
}

async function newSession() {
  if (current) interrupt('new-session');
  const session = await api.createSession(settings.userId);
  sessionId = session.sessionId;
  current = undefined;
  history.replaceChildren();
  $('session-id').textContent = t('session', { id: sessionId });
  record('session', { sessionId });
}

// ---- push-to-talk ----

let talking = false;

async function startTalking() {
  if (talking || !sessionId) return;
  talking = true;
  player.unlock();
  const bargeIn = interrupt('talk');
  try {
    await recorder.start();
  } catch (error) {
    talking = false;
    micProblem(error);
    setState('idle');
    return;
  }
  if (!talking) {
    void recorder.stop(); // released while the microphone opened
    setState('idle');
    return;
  }
  current = undefined;
  pendingBargeIn = bargeIn;
  setState('listening');
}

let pendingBargeIn = false;

async function stopTalking() {
  if (!talking) return;
  talking = false;
  if (!recorder.recording) return;
  const speechEndAt = performance.now();
  const { wav, durationMs } = await recorder.stop();
  record('speech-end', { durationMs });
  if (durationMs < MIN_RECORDING_MS) {
    notice('tooShort');
    setState('idle');
    return;
  }
  void submitTurn(wav, speechEndAt, pendingBargeIn);
}

// ---- one turn ----

async function submitTurn(wav, speechEndAt, bargeIn) {
  setState('thinking');
  clearNotices('tooShort');
  let accepted;
  try {
    accepted = await api.submitAudio(sessionId, wav, { voice: $('voice').value, language: $('turn-lang').value, bargeIn });
  } catch (error) {
    apiProblem(error);
    setState('idle');
    return;
  }
  record('accepted', { turnId: accepted.turnId });
  const turn = { turnId: accepted.turnId, traceId: accepted.traceId, view: new TurnView(history, accepted.turnId), speechEndAt, sentences: 0, texts: [], durationsMs: [] };
  player.reset();
  current = turn;
  turn.stop = followTurn(turn.turnId, (type, data) => onTurnEvent(turn, type, data));
}

function onTurnEvent(turn, type, data) {
  record('event', { type, turnId: turn.turnId, ...(type === 'sentence' ? { index: data.index } : {}), ...(type === 'end' ? { status: data.status } : {}) });
  const hearing = turn === current && !turn.cut;
  switch (type) {
    case 'transcript':
      turn.view.transcript(data.text);
      break;
    case 'text':
      turn.view.delta(data.delta);
      break;
    case 'sentence':
      turn.sentences += 1;
      turn.texts[data.index] = data.text;
      turn.durationsMs[data.index] = data.audio.durationMs;
      if (hearing) void player.push(data.index, data.audio.base64 ?? fetch(data.audioUrl).then((r) => r.arrayBuffer())).catch((error) => record('decode-failed', { message: String(error) }));
      break;
    case 'end':
      turn.end = data;
      turn.view.end(data);
      if (data.status === 'failed') {
        notice('turnFailed', { message: data.error?.message ?? '' });
        if (hearing) setState('idle');
      } else if (data.status === 'completed' && hearing) {
        player.finish(turn.sentences - 1);
      }
      break;
    case 'stream-closed':
      if (!turn.end) {
        notice('streamLost');
        if (hearing) setState('idle');
      }
      break;
    case 'done':
      turn.view.showTimings(turn.firstAudioAt === undefined ? undefined : turn.firstAudioAt - turn.speechEndAt, data.timing, traceUrl(turn));
      break;
  }
}

function traceUrl(turn) {
  const template = settings.traceUrlTemplate;
  if (!template || (template.includes('{traceId}') && !turn.traceId)) return undefined;
  return template.replaceAll('{traceId}', encodeURIComponent(turn.traceId ?? '')).replaceAll('{turnId}', encodeURIComponent(turn.turnId));
}

player.addEventListener('chunkstart', (event) => {
  const { index, at, seamless } = event.detail;
  record('chunk-start', { index, seamless, turnId: current?.turnId });
  if (current && current.firstAudioAt === undefined) {
    current.firstAudioAt = at;
    record('speech-to-audio', { ms: at - current.speechEndAt, turnId: current.turnId });
  }
  if (state !== 'listening') setState('speaking');
});
player.addEventListener('chunkend', (event) => record('chunk-end', { index: event.detail.index }));
player.addEventListener('drained', () => {
  if (state === 'speaking') setState('idle');
});

/**
 * Barge-in: stops the reply now and cancels the turn with what was heard. True when a turn was
 * in flight or playing (the next turn then asks the API to cancel too, in case this one raced).
 */
function interrupt(reason) {
  const turn = current;
  if (!turn || turn.cut) return false;
  const serverDone = turn.end !== undefined;
  if (serverDone && !player.playing) return false;
  const playedMs = player.stop();
  turn.cut = true;
  record('stopped', { playedMs, reason, turnId: turn.turnId, outputLatencyMs: player.outputLatencyMs() });
  setState('interrupted');
  if (serverDone) {
    // The turn had ended on the server (its audio all synthesized, still playing): its stored reply is cut where playback stopped.
    turn.view.end({ status: 'interrupted', heardText: heardLocally(turn, playedMs), playedMs });
    api
      .heard(turn.turnId, playedMs)
      .then((answer) => record('heard', { playedMs, cut: answer.cut, turnId: turn.turnId }))
      .catch(apiProblem);
    return true;
  }
  api
    .cancel(sessionId, playedMs)
    .then((answer) => record('cancel', { playedMs, cancelled: answer.cancelled, turnId: turn.turnId }))
    .catch(apiProblem);
  return true;
}

/** The sentences that had started playing, for a reply cut after its turn ended. */
function heardLocally(turn, playedMs) {
  let startMs = 0;
  const heard = [];
  for (let index = 0; index < turn.texts.length && startMs < playedMs; index += 1) {
    heard.push(turn.texts[index] ?? '');
    startMs += turn.durationsMs[index] ?? 0;
  }
  return heard.join(' ');
}

// ---- keyboard and buttons ----

const typing = (target) => target instanceof HTMLElement && (['INPUT', 'SELECT', 'TEXTAREA', 'A'].includes(target.tagName) || (target.tagName === 'BUTTON' && target.id !== 'talk'));

document.addEventListener('keydown', (event) => {
  if (event.code === 'Escape') {
    player.unlock();
    interrupt('key');
    return;
  }
  if (event.code !== 'Space' || typing(event.target) || handsFree?.active) return;
  event.preventDefault();
  if (!event.repeat) void startTalking();
});
document.addEventListener('keyup', (event) => {
  if (event.code !== 'Space' || typing(event.target)) return;
  event.preventDefault();
  void stopTalking();
});
const talk = $('talk');
talk.addEventListener('pointerdown', () => void startTalking());
talk.addEventListener('pointerup', () => void stopTalking());
talk.addEventListener('pointerleave', () => void stopTalking());
$('interrupt').addEventListener('click', () => interrupt('button'));
$('new-session').addEventListener('click', () => void newSession().catch(apiProblem));
$('sign-out').addEventListener('click', () => {
  void api.signOut().finally(() => location.assign('/console'));
});
$('ui-lang').addEventListener('change', (event) => {
  setLanguage(event.target.value);
  localStorage.setItem(LANG_PREF, language());
  setState(state);
});
$('hands-free').addEventListener('change', (event) => void toggleHandsFree(event.target.checked));

// ---- hands-free ----

/** Hands-free on: no push-to-talk button, and the hint says how hands-free works. */
function showMode(handsFreeOn) {
  $('talk').disabled = handsFreeOn;
  const hint = document.querySelector('.hint');
  hint.dataset.i18n = handsFreeOn ? 'hintHandsFree' : 'hint';
  hint.textContent = t(hint.dataset.i18n);
}

async function toggleHandsFree(on) {
  if (!on) {
    await handsFree?.pause();
    showMode(false);
    setState('idle');
    return;
  }
  if (!settings.vad) {
    notice('vadUnavailable');
    $('hands-free').checked = false;
    return;
  }
  player.unlock();
  $('status').textContent = t('vadLoading');
  echoGuard ??= new EchoGuard(player.context, player.output);
  handsFree ??= new HandsFree(settings.vad, settings.bargeInMinSpeechMs, {
    onStream: async (stream) => {
      try {
        await echoGuard.listen(stream);
      } catch (error) {
        record('echo-guard-unavailable', { message: String(error?.message ?? error) });
      }
    },
    onSpeechStart: () => {
      segment = { since: echoGuard.frames, echo: false };
      if (state !== 'speaking' && state !== 'thinking') setState('listening');
    },
    onSpeechOnset: () => {
      const check = echoGuard.classify();
      if (check.verdict === 'echo') {
        // The reply's own voice came back through the microphone: not the user, not a barge-in.
        if (segment) segment.echo = true;
        record('echo-ignored', { correlation: check.correlation });
        return;
      }
      userSpeaks(check.correlation);
    },
    onSpeechEnd: (wav) => {
      const echo = segment?.echo;
      segment = undefined;
      if (echo) {
        record('echo-dropped');
        if (state === 'listening') setState('idle');
        return;
      }
      const speechEndAt = performance.now();
      record('speech-end', { vad: true });
      const bargeIn = pendingBargeIn;
      pendingBargeIn = false;
      void submitTurn(wav, speechEndAt, bargeIn);
    },
    onFrame: () => {
      window.voxqConsole.vadFrames += 1;
      // A segment taken for echo becomes the user's once the microphone carries what the reply does not explain.
      if (!segment?.echo) return;
      const check = player.playing ? echoGuard.classify() : { verdict: echoGuard.voiceAfterReply(segment.since) ? 'speech' : 'echo', correlation: 0 };
      // Three VAD frames (about 100 ms) in a row, so one odd window does not count as the user.
      segment.heard = check.verdict === 'speech' ? (segment.heard ?? 0) + 1 : 0;
      if (segment.heard >= 3) {
        segment.echo = false;
        userSpeaks(check.correlation, true);
      }
    },
    onMisfire: () => {
      segment = undefined;
      record('vad-misfire');
      if (state === 'listening') setState('idle');
    },
  });
  try {
    await handsFree.start();
    showMode(true);
    record('vad-ready');
    setState('idle');
  } catch (error) {
    $('hands-free').checked = false;
    if (error?.name === 'NotAllowedError' || error?.name === 'NotFoundError') micProblem(error);
    else notice('requestFailed', { message: String(error?.message ?? error) });
    setState('idle');
  }
}

/** The VAD heard the user (not the reply's echo) for the barge-in threshold: interrupt the reply. */
function userSpeaks(correlation, afterEcho = false) {
  record('vad-speech-start', { correlation, ...(afterEcho ? { afterEcho } : {}) });
  if (interrupt('speech')) pendingBargeIn = true;
}

// ---- start ----

async function start() {
  const saved = localStorage.getItem(LANG_PREF);
  const lang = new URLSearchParams(location.search).get('lang') ?? saved ?? 'pt';
  setLanguage(lang);
  $('ui-lang').value = language();
  try {
    await loadStages();
    await newSession();
  } catch (error) {
    apiProblem(error);
  }
  setState('idle');
}

void start();
