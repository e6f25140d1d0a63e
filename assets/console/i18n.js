// The console's words: Portuguese (its users' language) by default, English on request. Elements
// with data-i18n="key" get their text from here; code calls t(key, values) for messages.
const TEXT = {
  pt: {
    title: 'console de voz',
    language: 'Idioma da página',
    newSession: 'Nova sessão',
    signOut: 'Sair',
    controls: 'Controles',
    voice: 'Voz',
    turnLanguage: 'Idioma da fala',
    handsFree: 'Mãos livres (detecção de voz)',
    talk: 'Segure para falar (espaço)',
    interrupt: 'Interromper (Esc)',
    hint: 'Segure a barra de espaço (ou o botão) e fale; solte para enviar. Esc interrompe a resposta.',
    hintHandsFree: 'Mãos livres: fale quando quiser; uma pausa envia. Falar por cima da resposta (mais de 300 ms) ou Esc a interrompe.',
    history: 'Histórico da sessão',
    statusLoading: 'Carregando…',
    idle: 'Pronto. Segure espaço para falar.',
    idleHandsFree: 'Mãos livres: pode falar.',
    listening: 'Ouvindo…',
    thinking: 'Pensando…',
    speaking: 'Falando… (Esc interrompe)',
    interrupted: 'Resposta interrompida.',
    session: 'Sessão {id}',
    you: 'Você',
    assistant: 'Assistente',
    turnInterrupted: 'interrompida em {ms} ms de áudio',
    turnFailed: 'falhou: {message}',
    unheard: 'não ouvido',
    traceLink: 'rastro',
    timings: 'fim da fala → 1º áudio {speech} · transcrição {transcript} · 1º token {token} · 1º áudio {audio} · total {total}',
    micRefused: 'O microfone foi recusado. Permita o acesso ao microfone nas configurações do navegador e recarregue a página.',
    micMissing: 'Nenhum microfone encontrado.',
    missingScope: 'Esta sessão não tem permissão para isso ({message}). Entre com uma chave que tenha turns:read e turns:write.',
    signedOut: 'A sessão expirou ou foi encerrada. Entre de novo.',
    stageDown: 'Nenhum worker está servindo a etapa {stage}: os turnos vão esperar até um worker de {stage} ficar disponível.',
    tooShort: 'Gravação curta demais: segure o espaço enquanto fala.',
    requestFailed: 'Falha: {message}',
    vadUnavailable: 'A detecção de voz não está disponível neste servidor.',
    vadLoading: 'Carregando a detecção de voz…',
    streamLost: 'Os eventos do turno pararam de chegar. Se a sessão expirou, recarregue a página e entre de novo.',
  },
  en: {
    title: 'voice console',
    language: 'Page language',
    newSession: 'New session',
    signOut: 'Sign out',
    controls: 'Controls',
    voice: 'Voice',
    turnLanguage: 'Speech language',
    handsFree: 'Hands-free (voice detection)',
    talk: 'Hold to talk (space)',
    interrupt: 'Interrupt (Esc)',
    hint: 'Hold the space bar (or the button) and speak; release to send. Esc interrupts the reply.',
    hintHandsFree: 'Hands-free: speak whenever you like; a pause sends it. Speaking over the reply (over 300 ms) or Esc interrupts it.',
    history: 'Session history',
    statusLoading: 'Loading…',
    idle: 'Ready. Hold space to talk.',
    idleHandsFree: 'Hands-free: go ahead and speak.',
    listening: 'Listening…',
    thinking: 'Thinking…',
    speaking: 'Speaking… (Esc interrupts)',
    interrupted: 'Reply interrupted.',
    session: 'Session {id}',
    you: 'You',
    assistant: 'Assistant',
    turnInterrupted: 'interrupted after {ms} ms of audio',
    turnFailed: 'failed: {message}',
    unheard: 'not heard',
    traceLink: 'trace',
    timings: 'end of speech → first audio {speech} · transcript {transcript} · first token {token} · first audio {audio} · total {total}',
    micRefused: 'The microphone was refused. Allow microphone access in the browser settings and reload the page.',
    micMissing: 'No microphone found.',
    missingScope: 'This sign-in may not do that ({message}). Sign in with a key that has turns:read and turns:write.',
    signedOut: 'The sign-in expired or ended. Sign in again.',
    stageDown: 'No worker is serving the {stage} stage: turns will wait until a {stage} worker is available.',
    tooShort: 'Recording too short: hold space while you speak.',
    requestFailed: 'Failed: {message}',
    vadUnavailable: 'Voice detection is not available on this server.',
    vadLoading: 'Loading voice detection…',
    streamLost: 'The turn’s events stopped arriving. If the sign-in expired, reload the page and sign in again.',
  },
};

let current = 'pt';

export function setLanguage(lang) {
  current = lang in TEXT ? lang : 'pt';
  document.documentElement.lang = current === 'pt' ? 'pt-BR' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

export function language() {
  return current;
}

/** A message with {name} placeholders filled in. */
export function t(key, values = {}) {
  const text = TEXT[current][key] ?? TEXT.pt[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_m, name) => String(values[name] ?? ''));
}
