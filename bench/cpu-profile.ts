/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by
 * module of the agent (kafkajs by area, our parser, encoder, tailer, ...)
 * and the functions with the most self time. Idle time is left out of the
 * percentages, so they read as "share of the agent's CPU".
 *
 *   node bench/cpu-profile.ts FILE.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Microseconds of samples that were not idle. */
  busyUs: number;
  categories: { name: string; us: number; share: number }[];
  /** The same, with Node's and V8's built-ins (Buffer, fs, JSON.stringify, ...) charged to the module that called them. */
  owners: { name: string; us: number; share: number }[];
  functions: { name: string; where: string; category: string; us: number; share: number }[];
}

const KAFKAJS_AREAS: readonly [RegExp, string][] = [
  [/\/protocol\/recordBatch\/crc32C\//, 'kafkajs: CRC-32C of record batches'],
  [/\/protocol\/recordBatch\//, 'kafkajs: record batch / record encoding'],
  [/\/protocol\/(encoder|decoder)\.js/, 'kafkajs: Encoder/Decoder (varints, buffers)'],
  [/\/protocol\/requests\//, 'kafkajs: request encoding'],
  [/\/producer\//, 'kafkajs: producer (partitioning, grouping)'],
  [/\/network\//, 'kafkajs: network (connection, request queue)'],
  [/\/utils\/long/, 'kafkajs: Long arithmetic'],
];

/** Which part of the agent a frame belongs to. */
export function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return 'V8: garbage collection';
  if (functionName === '(program)' || functionName === '(root)') return 'V8/native (program)';
  if (url.includes('/node_modules/kafkajs/')) {
    for (const [re, name] of KAFKAJS_AREAS) if (re.test(url)) return name;
    return 'kafkajs: other';
  }
  const dep = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return `dependency: ${dep[1]}`;
  // src/<stage>/... in a checkout run from its sources, dist/<stage>/... as installed.
  const ours = /\/(?:src|dist)\/([^/]+)\//.exec(url) ?? /\/(?:src|dist)\/([^/]+)\.[jt]s$/.exec(url);
  if (ours) {
    const area = ours[1]!;
    const names: Record<string, string> = {
      parse: 'logship: parser (src/parse)',
      encode: 'logship: record JSON + id (src/encode, JSON.stringify inside)',
      tail: 'logship: tailer (src/tail)',
      batch: 'logship: batcher (src/batch)',
      kafka: 'logship: delivery / producer glue (src/kafka)',
      checkpoint: 'logship: ack tracking / checkpoints (src/checkpoint)',
    };
    return names[area] ?? `logship: ${area}`;
  }
  if (url.startsWith('node:')) return `Node internals (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`;
  if (url === '') return `V8 builtin / native (${functionName || 'anonymous'})`;
  return 'other';
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time since the previous sample: charge it to this one.
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  /** The nearest frame on the stack that is our code or a dependency's (not Node's or V8's own). */
  const owner = (node: ProfileNode): string => {
    const own = category(node.callFrame);
    for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) {
      const cat = category(at.callFrame);
      if (cat.startsWith('kafkajs') || cat.startsWith('logship') || cat.startsWith('dependency')) return cat;
    }
    return own;
  };
  const owners = new Map<string, number>();
  const categories = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; category: string; us: number }>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const cat = category(frame);
    if (cat === '(idle)') continue;
    busyUs += us;
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    const own = owner(byId.get(id)!);
    owners.set(own, (owners.get(own) ?? 0) + us);
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where, category: cat, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    busyUs,
    categories: [...categories].map(([name, us]) => ({ name, us, share: share(us) })).sort((a, b) => b.us - a.us),
    owners: [...owners].map(([name, us]) => ({ name, us, share: share(us) })).sort((a, b) => b.us - a.us),
    functions: [...functions.values()].map((f) => ({ ...f, share: share(f.us) })).sort((a, b) => b.us - a.us).slice(0, top),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  const lines = [`CPU profile: ${(summary.busyUs / 1e6).toFixed(2)} s busy (idle left out)`, '', 'Self time by module, Node/V8 built-ins (Buffer, fs, JSON.stringify) charged to their caller:'];
  for (const c of summary.owners) if (c.share >= 0.002) lines.push(`  ${pct(c.share)}  ${c.name}`);
  lines.push('', 'Self time by module, built-ins on their own:');
  for (const c of summary.categories) if (c.share >= 0.002) lines.push(`  ${pct(c.share)}  ${c.name}`);
  lines.push('', 'Top functions by self time:');
  for (const f of summary.functions) lines.push(`  ${pct(f.share)}  ${f.name}  ${f.where}  [${f.category}]`);
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/cpu-profile.ts FILE.cpuprofile');
  console.log(formatProfileSummary(summariseProfile(file)));
}
