// A service call's state in Redis: one hash per call, `${prefix}:call:${callId}`, holding the
// request (JSON), the audio sent to STT, and then either the output (JSON, plus the audio TTS
// made) or the failure. The client writes the request, the worker the answer, the client reads
// it and deletes the hash. Every write sets a TTL, so a call whose caller went away leaves
// nothing behind for long.
import type { StageName } from '../contracts/turn.js';
import type { RedisClient } from '../redis.js';
import {
  SERVICE_CALL_REQUEST_SCHEMAS,
  SERVICE_CALL_STORED_OUTPUT_SCHEMAS,
  serviceCallFailureSchema,
  type ServiceCallFailure,
  type ServiceCallRequests,
  type ServiceCallStoredOutputs,
} from '../contracts/service-calls.js';

/** A request waits this long for a worker (a call that timed out withdraws its job and hash sooner). */
export const CALL_REQUEST_TTL_MS = 3_600_000;
/** An answer nobody read is dropped after this. */
export const CALL_RESULT_TTL_MS = 600_000;

export interface CallRequest<S extends StageName> {
  request: ServiceCallRequests[S];
  /** stt: the audio to transcribe. */
  audio: Buffer | undefined;
}

export type CallResult<S extends StageName> =
  | { state: 'done'; output: ServiceCallStoredOutputs[S]; audio: Buffer | undefined }
  | { state: 'failed'; failure: ServiceCallFailure }
  | { state: 'missing' };

export class CallStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  key(callId: string): string {
    return `${this.prefix}:call:${callId}`;
  }

  async putRequest<S extends StageName>(callId: string, request: ServiceCallRequests[S], audio?: Uint8Array): Promise<void> {
    const key = this.key(callId);
    const fields: Record<string, string | Buffer> = { input: JSON.stringify(request) };
    if (audio) fields.audio = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
    await this.redis.multi().hset(key, fields).pexpire(key, CALL_REQUEST_TTL_MS).exec();
  }

  /** The request, checked against its service's schema; undefined when it expired (or was withdrawn). */
  async getRequest<S extends StageName>(service: S, callId: string): Promise<CallRequest<S> | undefined> {
    const [input, audio] = await this.redis.hmgetBuffer(this.key(callId), 'input', 'audio');
    if (!input) return undefined;
    const request = SERVICE_CALL_REQUEST_SCHEMAS[service].parse(JSON.parse(input.toString('utf8'))) as ServiceCallRequests[S];
    return { request, audio: audio ?? undefined };
  }

  async putOutput<S extends StageName>(callId: string, output: ServiceCallStoredOutputs[S], audio?: Uint8Array): Promise<void> {
    const key = this.key(callId);
    const fields: Record<string, string | Buffer> = { output: JSON.stringify(output) };
    if (audio) fields.outputAudio = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
    // The request's audio is not needed any more.
    await this.redis.multi().hdel(key, 'audio').hset(key, fields).pexpire(key, CALL_RESULT_TTL_MS).exec();
  }

  async putFailure(callId: string, failure: ServiceCallFailure): Promise<void> {
    const key = this.key(callId);
    await this.redis.multi().hdel(key, 'audio').hset(key, { failure: JSON.stringify(failure) }).pexpire(key, CALL_RESULT_TTL_MS).exec();
  }

  async getResult<S extends StageName>(service: S, callId: string): Promise<CallResult<S>> {
    const [output, audio, failure] = await this.redis.hmgetBuffer(this.key(callId), 'output', 'outputAudio', 'failure');
    if (output) {
      const parsed = SERVICE_CALL_STORED_OUTPUT_SCHEMAS[service].parse(JSON.parse(output.toString('utf8'))) as ServiceCallStoredOutputs[S];
      return { state: 'done', output: parsed, audio: audio ?? undefined };
    }
    if (failure) return { state: 'failed', failure: serviceCallFailureSchema.parse(JSON.parse(failure.toString('utf8'))) };
    return { state: 'missing' };
  }

  async delete(callId: string): Promise<void> {
    await this.redis.del(this.key(callId));
  }
}
