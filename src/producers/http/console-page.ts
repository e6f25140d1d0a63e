// The voice console's page: a shell whose text the page's own module fills in (Portuguese by
// default, English on request, assets/console/i18n.js), with the settings it needs as JSON. It
// holds no key: the page talks to /v1 with the sign-in cookie and the CSRF token in voxq_csrf.
import { CONSOLE_PATH } from './board-paths.js';

export interface ConsolePageOptions {
  /** VOXQ_TRACE_URL_TEMPLATE: each turn links to its trace. */
  traceUrlTemplate?: string;
  /** The browser VAD's files are installed (hands-free mode). */
  hasVad: boolean;
  /** A key bound to one user creates sessions for that user only: the page's sessions are theirs. */
  userId?: string;
}

/** JSON inside a <script> element: `<` escaped so no value can close it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function consolePage(options: ConsolePageOptions): string {
  const settings = {
    traceUrlTemplate: options.traceUrlTemplate ?? null,
    vad: options.hasVad
      ? { script: `${CONSOLE_PATH}/vendor/vad/bundle.min.js`, ortScript: `${CONSOLE_PATH}/vendor/ort/ort.wasm.min.js`, baseAssetPath: `${CONSOLE_PATH}/vendor/vad/`, onnxWASMBasePath: `${CONSOLE_PATH}/vendor/ort/` }
      : null,
    bargeInMinSpeechMs: 300,
    userId: options.userId ?? 'console',
  };
  const assets = `${CONSOLE_PATH}/assets`;
  return `<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>voxq · console de voz</title>
<link rel="stylesheet" href="${assets}/console.css">
<script type="application/json" id="console-settings">${scriptJson(settings)}</script>
<script type="module" src="${assets}/main.js"></script>
</head><body data-state="loading">
<header>
  <h1>voxq <span data-i18n="title">console de voz</span></h1>
  <div class="bar">
    <label><span data-i18n="language">Idioma da página</span>
      <select id="ui-lang"><option value="pt">Português</option><option value="en">English</option></select></label>
    <button type="button" id="new-session" data-i18n="newSession">Nova sessão</button>
    <button type="button" id="sign-out" data-i18n="signOut">Sair</button>
  </div>
</header>
<div id="notices" role="alert" aria-live="assertive"></div>
<main>
  <section class="controls" aria-labelledby="controls-title">
    <h2 id="controls-title" class="visually-hidden" data-i18n="controls">Controles</h2>
    <label><span data-i18n="voice">Voz</span> <select id="voice"></select></label>
    <label><span data-i18n="turnLanguage">Idioma da fala</span> <select id="turn-lang"></select></label>
    <label class="check"><input type="checkbox" id="hands-free"> <span data-i18n="handsFree">Mãos livres (detecção de voz)</span></label>
    <button type="button" id="talk" aria-pressed="false" data-i18n="talk">Segure para falar (espaço)</button>
    <button type="button" id="interrupt" data-i18n="interrupt">Interromper (Esc)</button>
    <p id="status" aria-live="polite" data-i18n="statusLoading">Carregando…</p>
    <p class="hint" data-i18n="hint">Segure a barra de espaço (ou o botão) e fale; solte para enviar. Esc interrompe a resposta.</p>
  </section>
  <section aria-labelledby="history-title">
    <h2 id="history-title" data-i18n="history">Histórico da sessão</h2>
    <p id="session-id" class="meta"></p>
    <ol id="history" tabindex="0" aria-labelledby="history-title"></ol>
  </section>
</main>
</body></html>
`;
}
