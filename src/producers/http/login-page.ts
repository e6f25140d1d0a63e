// The sign-in page (one for /admin, /console and /v1 in a browser): one field for an API key.
// The board's own login link passes `next`, so the form goes on to the board; the console's is
// in Portuguese (its users' language), naming the scopes the console needs.
import { CONSOLE_PATH, SIGN_IN_PATH } from './board-paths.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;font-family:monospace}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00020}';

const TEXT = {
  en: {
    title: 'voxq · sign in',
    intro: `Sign in with an API key. The board needs <code>board:read</code> (read-only) or <code>board:admin</code> (with actions);
create one with <code>voxq keys create --scopes board:read</code>. The key stays here: the browser gets a session cookie instead.`,
    label: 'API key',
    submit: 'Sign in',
  },
  pt: {
    title: 'voxq · console de voz · entrar',
    intro: `Entre com uma chave de API que tenha <code>turns:read</code> e <code>turns:write</code>
(crie uma com <code>voxq keys create --scopes turns:read,turns:write</code>). A chave fica aqui: o navegador recebe um cookie de sessão, nunca a chave.</p>
<p lang="en">English: sign in with an API key that has <code>turns:read</code> and <code>turns:write</code>; the browser gets a session cookie, never the key. The console has an English mode.`,
    label: 'Chave de API',
    submit: 'Entrar',
  },
} as const;

export function loginPage(options: { problem?: string; next?: string } = {}): string {
  const { problem, next } = options;
  const lang = next?.startsWith(CONSOLE_PATH) ? 'pt' : 'en';
  const text = TEXT[lang];
  return `<!doctype html>
<html lang="${lang === 'pt' ? 'pt-BR' : 'en'}"><head><meta charset="utf-8"><title>${text.title}</title>
<style>${STYLE}</style>
</head><body>
<h1>voxq</h1>
<p>${text.intro}</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${SIGN_IN_PATH}">
<label for="key">${text.label}</label>
<input id="key" name="key" type="password" autocomplete="off" placeholder="voxq_…" required autofocus>
${next ? `<input type="hidden" name="next" value="${escapeHtml(next)}">` : ''}
<button type="submit">${text.submit}</button>
</form>
</body></html>
`;
}

/** After a form sign-in with nowhere to go: what the session may do. */
export function signedInPage(keyId: string, scopes: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxq · signed in</title>
<style>${STYLE}</style>
</head><body>
<h1>Signed in</h1>
<p>This browser is signed in with key <code>${escapeHtml(keyId)}</code> (${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') || 'no scopes'}).</p>
<p>Its cookie works for <code>/v1</code> and <code>/console</code>${scopes.some((s) => s.startsWith('board:')) ? ' and <a href="/admin/queues">the board</a>' : ''}; writes need the <code>voxq_csrf</code> cookie's value in an <code>x-csrf-token</code> header.</p>
</body></html>
`;
}
