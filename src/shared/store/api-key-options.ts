// What a new key may be created with, checked once for every store: its scopes, its binding
// (whose sessions it sees) and its quotas. Empty parts are dropped, so an unbound, unlimited
// key's record has neither `binding` nor `quota`.
import { InputError } from '../errors.js';
import type { ApiKeyBinding, ApiKeyQuota, ApiScope, CreateApiKeyOptions } from '../ports/api-key-store.js';
import { validScopes } from './api-key-secret.js';

/** Longest user id or tenant a key may be bound to (a session's userId allows as much). */
const MAX_BINDING_CHARS = 200;

export interface ValidKeyOptions {
  scopes: ApiScope[];
  name: string;
  binding?: ApiKeyBinding;
  quota?: ApiKeyQuota;
}

export function validKeyOptions(options: CreateApiKeyOptions): ValidKeyOptions {
  const scopes = validScopes(options.scopes);
  const binding: ApiKeyBinding = {};
  const userId = bindingValue(options.binding?.userId, 'userId');
  const tenant = bindingValue(options.binding?.tenant, 'tenant');
  if (userId !== undefined) binding.userId = userId;
  if (tenant !== undefined) binding.tenant = tenant;
  const quota: ApiKeyQuota = {};
  const rpm = quotaValue(options.quota?.requestsPerMinute, 'requestsPerMinute');
  const turns = quotaValue(options.quota?.maxTurnsInFlight, 'maxTurnsInFlight');
  if (rpm !== undefined) quota.requestsPerMinute = rpm;
  if (turns !== undefined) quota.maxTurnsInFlight = turns;
  return {
    scopes,
    name: options.name ?? '',
    ...(Object.keys(binding).length > 0 ? { binding } : {}),
    ...(Object.keys(quota).length > 0 ? { quota } : {}),
  };
}

function bindingValue(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed === '' || trimmed.length > MAX_BINDING_CHARS) {
    throw new InputError('invalid_binding', `a key's ${field} must be 1 to ${MAX_BINDING_CHARS} characters`);
  }
  return trimmed;
}

function quotaValue(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value <= 0) throw new InputError('invalid_quota', `a key's ${field} must be a positive whole number (got ${String(value)})`);
  return value;
}
