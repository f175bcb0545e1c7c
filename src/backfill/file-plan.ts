import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCheckpoints, parseRetired, type FileCheckpoint } from '../checkpoint/checkpoint-file.ts';
import { fingerprintOfKey, identityKey } from '../tail/identity.ts';
import type { HistoryFile } from './history-files.ts';
import type { ContentIdentity } from './history-reader.ts';

/** What backfill does with one file. */
export type FilePlan =
  | { action: 'ship'; id: string; from: number; why: string }
  | { action: 'skip'; why: 'done' | 'followed by the agent' | 'empty' };

/** The live agent's checkpoints (followed files) and retired ones (files gone since: deleted, compressed). */
export interface AgentCheckpoints {
  files: Map<string, FileCheckpoint>;
  retired: Map<string, FileCheckpoint & { retired_at: number }>;
}

/**
 * The agent's checkpoints as they are now: `<state_dir>/checkpoints.json`
 * and `checkpoints-retired.json` (each replaced atomically); none yet is none.
 */
export async function readAgentCheckpoints(stateDir: string): Promise<AgentCheckpoints> {
  const read = async <T>(name: string, parse: (text: string) => Map<string, T>): Promise<Map<string, T>> => {
    const file = join(stateDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new Error(`cannot read the agent's checkpoints ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return parse(text);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  // Live first: the agent writes a retirement before it drops the live entry, so one retired between the two reads is in the second.
  const files = await read('checkpoints.json', parseCheckpoints);
  const retired = await read('checkpoints-retired.json', parseRetired);
  return { files, retired };
}

/**
 * Decides, for one history file, which record ids its lines get and where
 * shipping starts, so that nothing the agent shipped goes again and a line
 * shipped by both has one id:
 *
 * 1. Backfill's own checkpoint for this content (an earlier run, perhaps of
 *    the same file before logrotate compressed it): go on from there with
 *    the ids chosen then; done if it was read to its end.
 * 2. An uncompressed file the agent has a checkpoint for (same inode, same
 *    first line): the agent follows it and will read it to its end (a
 *    checkpoint is its promise): left to it.
 * 3. A checkpoint of the agent, followed or retired, for a file that began
 *    with the same line (a file it followed, since compressed): its ids,
 *    from its offset on; the agent shipped everything before.
 * 4. Never seen by the agent: an uncompressed file gets the id the agent
 *    would give it (device, inode, fingerprint); a compressed one, whose
 *    original inode is gone, an id made from its content.
 */
export function planFile(
  file: HistoryFile,
  identity: ContentIdentity,
  own: FileCheckpoint | undefined,
  agent: AgentCheckpoints,
): FilePlan {
  if (own) {
    const end = own.size;
    if (end !== undefined && own.offset >= end && (file.compression !== undefined || file.size <= end)) return { action: 'skip', why: 'done' };
    return { action: 'ship', id: own.id!, from: own.offset, why: 'resumed' };
  }
  const liveKey = identityKey(file, identity.fingerprint);
  if (file.compression === undefined && agent.files.has(liveKey)) return { action: 'skip', why: 'followed by the agent' };
  const shipped = agentShipped(identity.fingerprint, agent);
  if (shipped) return { action: 'ship', id: shipped.id, from: shipped.offset, why: 'after what the agent shipped' };
  if (file.compression === undefined) return { action: 'ship', id: liveKey, from: 0, why: 'not seen by the agent' };
  return { action: 'ship', id: `z:${identity.contentKey.slice(0, 16)}:${identity.fingerprint}`, from: 0, why: 'not seen by the agent' };
}

/**
 * The agent's furthest offset in the file that began with this fingerprint's
 * line. Several checkpoints share a first line when a copytruncate copy took
 * over its original (same record ids: the furthest counts); should two
 * different files share one, the most recently seen one is taken.
 */
function agentShipped(fingerprint: string, agent: AgentCheckpoints): { id: string; offset: number } | undefined {
  const candidates: { id: string; offset: number; seen: number }[] = [];
  for (const [key, entry] of agent.files) if (fingerprintOfKey(key) === fingerprint) candidates.push({ id: entry.id ?? key, offset: entry.offset, seen: Infinity });
  for (const [key, entry] of agent.retired) if (fingerprintOfKey(key) === fingerprint) candidates.push({ id: entry.id ?? key, offset: entry.offset, seen: entry.retired_at });
  if (candidates.length === 0) return undefined;
  candidates.sort((a, b) => b.seen - a.seen);
  const id = candidates[0]!.id;
  const offset = Math.max(...candidates.filter((c) => c.id === id).map((c) => c.offset));
  return { id, offset };
}
