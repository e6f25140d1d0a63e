// Batch transcription's job data and its durable record. A file is known by its key: a hash of
// its content and the options that change its transcript, so job ids and the MongoDB record both
// derive from it, and identical files are transcribed once. Jobs carry references only: the
// chunk audio lives in the audio store.
import { z } from 'zod';

/**
 * Batch jobs run on the `stt` queue (same workers as live turns, lower priority, one rate limit;
 * voxq keeps no keys outside its three stage queues). A file of one chunk is one chunk job that
 * records the file itself; a longer one is a BullMQ flow: a merge job over its chunk jobs.
 */
export const BATCH_CHUNK_JOB_NAME = 'batch-chunk';
export const BATCH_MERGE_JOB_NAME = 'batch-merge';

export const batchKeySchema = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-hex batch key');

export const batchMergeJobSchema = z.strictObject({
  key: batchKeySchema,
  contentSha256: z.string().regex(/^[0-9a-f]{64}$/),
  language: z.string().min(1),
  durationMs: z.number().int().nonnegative(),
  speechMs: z.number().int().nonnegative(),
  chunkCount: z.number().int().positive(),
});
export type BatchMergeJobData = z.infer<typeof batchMergeJobSchema>;

export const batchChunkJobSchema = z.strictObject({
  key: batchKeySchema,
  index: z.number().int().nonnegative(),
  audioId: z.string().min(1),
  /** Where the chunk starts in the file's decoded audio: added to every segment. */
  offsetMs: z.number().int().nonnegative(),
  durationMs: z.number().int().positive(),
  language: z.string().min(1),
  /** Set when the file is this one chunk: the job records the file itself (no flow, no merge job). */
  file: batchMergeJobSchema.optional(),
});
export type BatchChunkJobData = z.infer<typeof batchChunkJobSchema>;


export const batchSegmentSchema = z.object({
  startMs: z.number().int().nonnegative(),
  endMs: z.number().int().nonnegative(),
  text: z.string(),
  confidence: z.number().min(0).max(1).optional(),
});
export type BatchSegment = z.infer<typeof batchSegmentSchema>;

/** What a chunk job returns (its parent reads it with getChildrenValues). Times are already file times. */
export const batchChunkResultSchema = z.object({
  index: z.number().int().nonnegative(),
  offsetMs: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  text: z.string(),
  segments: z.array(batchSegmentSchema),
  provider: z.string(),
  model: z.string(),
});
export type BatchChunkResult = z.infer<typeof batchChunkResultSchema>;

/** The durable record of a transcribed file (MongoDB `batch_transcripts`, `_id` = key). */
export const batchRecordSchema = z.object({
  key: batchKeySchema,
  contentSha256: z.string(),
  language: z.string(),
  durationMs: z.number().int().nonnegative(),
  speechMs: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  text: z.string(),
  segments: z.array(batchSegmentSchema),
  provider: z.string(),
  model: z.string(),
  createdAt: z.date(),
});
export type BatchRecord = z.infer<typeof batchRecordSchema>;

/** The job that finishes a file (its merge job, or its only chunk). BullMQ forbids ':' in custom ids. */
export function batchFileJobId(key: string): string {
  return `batch.${key}`;
}

export function batchChunkJobId(key: string, index: number): string {
  return `batch.${key}.c${index}`;
}

export function batchChunkAudioId(key: string, index: number): string {
  return `batch_${key}.c${index}`;
}
