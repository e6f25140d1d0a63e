// voxq's own HTTP API, as any browser app calls it: the sign-in cookie goes by itself (same
// origin), and every write echoes the CSRF token from the readable voxq_csrf cookie. The page
// never holds a key.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'voxq_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
}

async function call(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 204) return undefined;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.code ?? 'http_error', data.message ?? `HTTP ${res.status}`);
  return data;
}

export const api = {
  stages: () => call('GET', '/v1/stages'),
  createSession: (userId) => call('POST', '/v1/sessions', { userId, metadata: { client: 'voxq-console' } }),
  messages: (sessionId) => call('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/messages?limit=200`),
  cancel: (sessionId, playedMs) => call('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/cancel`, { playedMs: Math.max(0, Math.round(playedMs)) }),
  /** The user stopped listening to a turn that already ended on the server: its stored reply is cut there. */
  heard: (turnId, playedMs) => call('POST', `/v1/turns/${encodeURIComponent(turnId)}/heard`, { playedMs: Math.max(0, Math.round(playedMs)) }),
  /** An audio turn: the WAV plus its options; 202 with the turn id (and its trace id when traced). */
  submitAudio: (sessionId, wav, options) => {
    const form = new FormData();
    form.append('sessionId', sessionId);
    if (options.voice) form.append('voice', options.voice);
    if (options.language) form.append('language', options.language);
    if (options.bargeIn) form.append('bargeIn', 'true');
    form.append('audio', wav, 'speech.wav');
    return call('POST', '/v1/turns', form);
  },
  signOut: () => call('POST', '/logout'),
};

const TURN_EVENTS = ['turn', 'accepted', 'stage', 'transcript', 'text', 'sentence', 'end', 'done'];

/**
 * Follows a turn's events (GET /v1/turns/{id}/events) with an EventSource, which resumes by
 * itself with Last-Event-ID after a dropped connection (a refused stream ends with a `stream-closed`
 * event of its own). Returns a function that stops following.
 */
export function followTurn(turnId, onEvent) {
  const source = new EventSource(`/v1/turns/${encodeURIComponent(turnId)}/events`);
  for (const type of TURN_EVENTS) {
    source.addEventListener(type, (message) => {
      onEvent(type, JSON.parse(message.data));
      if (type === 'done') source.close();
    });
  }
  // Closed for good (not a reconnect): the stream was refused, e.g. the sign-in expired.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) onEvent('stream-closed', {});
  };
  return () => source.close();
}
