// What a bound key may see: only its user's (or tenant's) sessions and their turns, messages and
// audio. Anything else answers exactly as if it did not exist (404 session_not_found or
// turn_not_found, the SDK's own messages), so a bound key cannot even learn that it exists.
// Unbound keys (operators) see everything and cost no extra read.
import { NotFoundError } from '../../shared/errors.js';
import type { ApiKeyBinding, ApiKeyRecord } from '../../shared/ports/api-key-store.js';
import type { Session } from '../../shared/ports/session-manager.js';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { HttpError } from './http-errors.js';

/** The session metadata field a tenant-bound key's sessions carry. */
export const TENANT_FIELD = 'tenant';

export class SessionAccess {
  constructor(private readonly client: VoxqClient) {}

  /** 404 session_not_found unless the session exists and the key may see it. */
  async session(record: ApiKeyRecord, sessionId: string): Promise<void> {
    const binding = record.binding;
    if (!binding) return;
    if (!sees(binding, await this.client.getSession(sessionId))) throw sessionNotFound(sessionId);
  }

  /** 404 turn_not_found unless the turn exists and the key may see its session. */
  async turn(record: ApiKeyRecord, turnId: string): Promise<void> {
    const binding = record.binding;
    if (!binding) return;
    const turn = await this.client.getTurn(turnId);
    if (binding.userId !== undefined && turn.userId !== binding.userId) throw turnNotFound(turnId);
    if (binding.tenant === undefined) return;
    const session = await this.client.getSession(turn.sessionId).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw turnNotFound(turnId);
      throw error;
    });
    if (!sees(binding, session)) throw turnNotFound(turnId);
  }

  /**
   * The metadata a new session of this key is created with: a user-bound key creates sessions for
   * its user only, a tenant-bound key's sessions get its tenant (403 when the body says otherwise).
   */
  newSession(record: ApiKeyRecord, userId: string, metadata: Record<string, unknown>): Record<string, unknown> {
    const binding = record.binding;
    if (!binding) return metadata;
    if (binding.userId !== undefined && userId !== binding.userId) {
      throw new HttpError(403, 'user_not_allowed', 'this API key is bound to one user: it creates sessions for that userId only');
    }
    if (binding.tenant === undefined) return metadata;
    const given = metadata[TENANT_FIELD];
    if (given !== undefined && given !== binding.tenant) {
      throw new HttpError(403, 'tenant_not_allowed', `this API key is bound to one tenant: leave metadata.${TENANT_FIELD} out or give that tenant`);
    }
    return { ...metadata, [TENANT_FIELD]: binding.tenant };
  }
}

function sees(binding: ApiKeyBinding, session: Session): boolean {
  if (binding.userId !== undefined && session.userId !== binding.userId) return false;
  return binding.tenant === undefined || session.metadata[TENANT_FIELD] === binding.tenant;
}

// The SDK's own not-found errors, word for word (voxq-client.ts): a refused id reads like an unknown one.
function sessionNotFound(sessionId: string): NotFoundError {
  return new NotFoundError('session_not_found', `session ${sessionId} does not exist: create it with createSession()`);
}

function turnNotFound(turnId: string): NotFoundError {
  return new NotFoundError('turn_not_found', `turn ${turnId} does not exist`);
}
