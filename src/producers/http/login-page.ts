// The board's sign-in page: one field for an API key (board:read or board:admin).
import { LOGIN_PATH } from './board-paths.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxq · sign in to Bull Board</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;font-family:monospace}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00020}</style>
</head><body>
<h1>voxq queues</h1>
<p>Sign in with an API key that has <code>board:read</code> (read-only board) or <code>board:admin</code> (with actions).
Create one with <code>voxq keys create --scopes board:read</code>.</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" placeholder="voxq_…" required>
<button type="submit">Sign in</button>
</form>
</body></html>
`;
}
