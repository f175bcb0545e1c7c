/**
 * A Dockerfile read into stages of instructions, for test/install/image-build.ts.
 * Only what an instruction's arguments need is parsed here: exec form (JSON
 * arrays), KEY=VALUE pairs, --flags.
 */

export interface Instruction {
  keyword: string;
  /** The arguments as written (continuations joined). */
  args: string;
  line: number;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages; comments and line continuations are handled as Docker does. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!.trim();
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\')) {
      logical = logical.slice(0, -1);
      // Comment lines inside a continuation are dropped, as by Docker.
      while (++i < lines.length && lines[i]!.trim().startsWith('#'));
      logical += ' ' + (lines[i] ?? '').trim();
    }
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(logical) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.trim(), line: start };
    if (instruction.keyword === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${start}: ${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** Exec form (`["a", "b"]`) as is; shell form as Docker runs it: /bin/sh -c. */
export function commandArgs(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return ['/bin/sh', '-c', args];
}

/** Leading `--name=value` flags, and the rest. */
export function takeFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let m = /^--([\w-]+)=(\S+)\s+/.exec(rest); m; m = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
    flags.set(m[1]!, m[2]!);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** ENV's KEY=VALUE pairs (values may be double-quoted), or the legacy `ENV KEY value`. */
export function envPairs(args: string): [string, string][] {
  if (!/^[\w.-]+=/.test(args)) {
    const [, key = '', value = ''] = /^(\S+)\s+(.*)$/.exec(args) ?? [];
    return [[key, value]];
  }
  return [...args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map(([, key, value]) => [key!, value!.startsWith('"') ? (JSON.parse(value!) as string) : value!]);
}
