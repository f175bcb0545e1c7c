/**
 * The most resident memory (RSS) the agent takes with given settings: what
 * a container's memory limit must leave room above. Every term follows
 * from a setting that bounds what the agent holds; the constants are
 * measured (npm run bench, bench:files and the chaos suite, Node 24 on
 * x86-64) and rounded up:
 *
 *   160 MiB   Node and the modules (86-94 MiB idle as installed; the
 *             TypeScript sources run by type stripping take ~25 more), V8's
 *             young generation (two 4 MiB semi-spaces) and what its old
 *             generation grows by under a full-speed load before it collects:
 *             113-116 MiB peak as installed in npm run bench, but up to 210
 *             MiB from the sources in the chaos suite, catching up with
 *             hundreds of thousands of lines while nginx's load takes the
 *             CPUs (the old generation grows while its marking waits).
 *   3 × batch.max_bytes per batch slot, (kafka.max_in_flight + 1) slots:
 *             a batch's records as bytes (EncodedRecords), its Kafka
 *             request, and the allocator's headroom over them; the spool's
 *             replay holds one entry besides the slots. Measured ~1.9 MiB
 *             per in-flight MB (1, 4, 16 slots of 1 MB: peak 106.5, 112,
 *             135.6 MiB).
 *   with the spool on, 16 × batch.max_bytes per in-flight batch more: a
 *             batch being spooled is decoded into messages (strings, with
 *             V8's headroom) and held as its encoded frame, while replay
 *             decodes entries beside it.
 *   per input: its read buffer, max(256 KiB, max_line_bytes + 2).
 *   40 KiB per followed file: its state, its checkpoint entry (2.3 KiB
 *             live), its watch and its size timeline (lag seconds, up to 64
 *             samples), with V8's headroom (3,000 files: peak 221-306 MiB
 *             running the TypeScript sources; 216-236 before the timeline).
 *
 * Not in it: a line not finished yet is held per file until its newline
 * comes, up to max_line_bytes (usually a few hundred bytes; at worst
 * max_line_bytes for every file that stopped mid-line).
 */

import type { Config } from '../config/types.ts';

const MiB = 1024 * 1024;
const BASE = 160 * MiB;
const PER_BATCH_BYTE = 3;
const PER_SPOOLED_BATCH_BYTE = 16;
const READ_BUFFER = 256 * 1024;
/** Per followed file, bytes (exported for the start-up log line). */
export const PER_FILE = 40 * 1024;

export interface MemorySettings {
  maxInFlight: number;
  batchMaxBytes: number;
  spool: boolean;
  /** max_line_bytes of each input. */
  inputs: readonly { maxLineBytes: number }[];
}

/** The bound in bytes for these settings and this many followed files. */
export function memoryBound(settings: MemorySettings, followedFiles: number): number {
  let bytes = BASE + PER_BATCH_BYTE * (settings.maxInFlight + 1) * settings.batchMaxBytes;
  if (settings.spool) bytes += PER_SPOOLED_BATCH_BYTE * settings.maxInFlight * settings.batchMaxBytes;
  for (const input of settings.inputs) bytes += Math.max(READ_BUFFER, input.maxLineBytes + 2);
  return bytes + PER_FILE * followedFiles;
}

/** The settings the bound follows from, out of a configuration. */
export function memorySettings(config: Pick<Config, 'kafka' | 'batch' | 'spool' | 'inputs'>): MemorySettings {
  return {
    maxInFlight: config.kafka.max_in_flight,
    batchMaxBytes: config.batch.max_bytes,
    spool: config.spool.enabled,
    inputs: config.inputs.map((input) => ({ maxLineBytes: input.max_line_bytes })),
  };
}
