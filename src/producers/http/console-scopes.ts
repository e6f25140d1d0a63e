// What the voice console needs of a key: reading turns (events, stages, history) and writing
// them (sessions, uploads, cancel). The sign-in for /console and the page itself check both.
import type { ApiKeyRecord, ApiScope } from '../../shared/ports/api-key-store.js';
import { hasScope } from './auth.js';

export const CONSOLE_SCOPES: readonly ApiScope[] = ['turns:read', 'turns:write'];

export function missingConsoleScopes(record: ApiKeyRecord): ApiScope[] {
  return CONSOLE_SCOPES.filter((scope) => !hasScope(record, scope));
}

/** The console's refusal, in Portuguese like the page: which scopes the key lacks. */
export function consoleScopeProblem(lacking: readonly ApiScope[]): string {
  const names = lacking.join(' e ');
  return `Esta chave não tem ${lacking.length > 1 ? 'os escopos' : 'o escopo'} ${names}: o console precisa de turns:read e turns:write. (This key lacks ${lacking.join(' and ')}.)`;
}
