// Audio bytes in GridFS (bucket `audio`, file `_id` = audioId), so that jobs carry only an id.
//
// A put with a caller-chosen id is idempotent, also when several run at once: GridFS writes a
// file's chunks concurrently and its files document last, so two uploads of one id would
// interleave their chunks. Each upload therefore first claims the id in `audio.uploads` (an
// insert, which both MongoDB and FerretDB reject as a duplicate); the others wait for the
// winner's files document. A claim left by a crashed process expires after `staleClaimMs`, and
// the next upload of that id first clears the chunks the crashed one may have left.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { GridFSBucket, type Collection, type Db, type ObjectId } from 'mongodb';
import { NotFoundError, TimeoutError } from '../errors.js';
import type { AudioStore, StoredAudioInfo } from '../ports/audio-store.js';
import { checkAudioPut, newAudioId } from './audio-info.js';
import { insertOnce, withoutUndefined } from './mongo-support.js';

export const AUDIO_BUCKET = 'audio';
export const AUDIO_UPLOADS_COLLECTION = `${AUDIO_BUCKET}.uploads`;

export interface AudioFileDocument {
  _id: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata?: { mimeType?: string; turnId?: string };
}

interface UploadClaim {
  _id: string;
  owner: string;
  claimedAt: Date;
}

export interface MongoAudioStoreOptions {
  /** A claim older than this is taken to belong to a crashed upload (default 60 s). */
  staleClaimMs?: number;
  /** How long a put waits for another upload of the same id (default 120 s). */
  waitTimeoutMs?: number;
}

/** Set when a stale claim is expired: the next upload of the id clears leftover chunks first. */
function dirtyMarkerId(audioId: string): string {
  return `${audioId}.dirty`;
}

/** GridFS takes any BSON value as a file id; the driver's typings say ObjectId only. */
function fileId(audioId: string): ObjectId {
  return audioId as unknown as ObjectId;
}

function toInfo(doc: AudioFileDocument): StoredAudioInfo {
  return { audioId: doc._id, mimeType: doc.metadata?.mimeType ?? 'application/octet-stream', sizeBytes: doc.length };
}

/** The AudioStore on MongoDB GridFS: jobs carry the audio's id, never its bytes. */
export class MongoAudioStore implements AudioStore {
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<AudioFileDocument>;
  private readonly chunks: Collection<{ files_id: string }>;
  private readonly claims: Collection<UploadClaim>;
  private readonly staleClaimMs: number;
  private readonly waitTimeoutMs: number;

  constructor(db: Db, options: MongoAudioStoreOptions = {}) {
    this.bucket = new GridFSBucket(db, { bucketName: AUDIO_BUCKET });
    this.files = db.collection<AudioFileDocument>(`${AUDIO_BUCKET}.files`);
    this.chunks = db.collection<{ files_id: string }>(`${AUDIO_BUCKET}.chunks`);
    this.claims = db.collection<UploadClaim>(AUDIO_UPLOADS_COLLECTION);
    this.staleClaimMs = options.staleClaimMs ?? 60_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 120_000;
  }

  async put(bytes: Uint8Array, meta: { mimeType: string; audioId?: string; turnId?: string }): Promise<StoredAudioInfo> {
    checkAudioPut(bytes, meta);
    if (meta.audioId === undefined) {
      const audioId = newAudioId();
      await this.upload(audioId, bytes, meta);
      return { audioId, mimeType: meta.mimeType, sizeBytes: bytes.byteLength };
    }
    const audioId = meta.audioId;
    const deadline = Date.now() + this.waitTimeoutMs;
    let backoffMs = 5;
    for (;;) {
      const existing = await this.info(audioId);
      if (existing !== null) return existing;
      const owner = randomUUID();
      if (await this.claim(audioId, owner)) {
        try {
          // The previous holder may have finished between our read and our claim.
          const finished = await this.info(audioId);
          if (finished !== null) return finished;
          // A crashed upload may have left chunks: clear them when its claim was found stale.
          // (Checked by marker, not by a chunks query: FerretDB v1 scans for anything but `_id`.)
          if ((await this.claims.findOne({ _id: dirtyMarkerId(audioId) })) !== null) {
            await this.chunks.deleteMany({ files_id: audioId });
            await this.claims.deleteOne({ _id: dirtyMarkerId(audioId) });
          }
          await this.upload(audioId, bytes, meta);
          return { audioId, mimeType: meta.mimeType, sizeBytes: bytes.byteLength };
        } finally {
          await this.claims.deleteOne({ _id: audioId, owner });
        }
      }
      if (Date.now() > deadline) {
        throw new TimeoutError('audio_put_timeout', `another upload of audio ${audioId} did not finish in ${this.waitTimeoutMs} ms`);
      }
      await this.expireStaleClaim(audioId);
      await delay(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 100);
    }
  }

  async get(audioId: string): Promise<{ bytes: Uint8Array; info: StoredAudioInfo }> {
    const info = await this.info(audioId);
    if (info === null) throw new NotFoundError('audio_not_found', `no audio ${audioId}`);
    const parts: Buffer[] = [];
    for await (const part of this.bucket.openDownloadStream(fileId(audioId))) parts.push(part as Buffer);
    const joined = Buffer.concat(parts);
    return { bytes: new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength), info };
  }

  async delete(audioId: string): Promise<void> {
    // The files document first, so that readers see the audio gone before its chunks go.
    await this.files.deleteOne({ _id: audioId });
    await this.chunks.deleteMany({ files_id: audioId });
  }

  private async info(audioId: string): Promise<StoredAudioInfo | null> {
    const doc = await this.files.findOne({ _id: audioId });
    return doc === null ? null : toInfo(doc);
  }

  private async expireStaleClaim(audioId: string): Promise<void> {
    const claim = await this.claims.findOne({ _id: audioId });
    if (claim === null || claim.claimedAt.getTime() > Date.now() - this.staleClaimMs) return;
    // Mark first, so that whoever claims next clears the crashed upload's chunks.
    await this.claim(dirtyMarkerId(audioId), 'crashed-upload');
    await this.claims.deleteOne({ _id: audioId, owner: claim.owner });
  }

  /** True when this owner holds the claim (its own retried insert included). */
  private claim(audioId: string, owner: string): Promise<boolean> {
    return insertOnce(this.claims, { _id: audioId, owner, claimedAt: new Date() });
  }

  private async upload(audioId: string, bytes: Uint8Array, meta: { mimeType: string; turnId?: string }): Promise<void> {
    const metadata = withoutUndefined({ mimeType: meta.mimeType, turnId: meta.turnId });
    const stream = this.bucket.openUploadStreamWithId(fileId(audioId), audioId, { metadata });
    try {
      await pipeline(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), stream);
    } catch (error) {
      await this.chunks.deleteMany({ files_id: audioId });
      throw error;
    }
  }
}
