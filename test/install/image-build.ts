/**
 * Builds a Dockerfile's image without an engine: each stage's root filesystem
 * in a directory (test/install/image-root.ts), its instructions followed as
 * Docker follows them: WORKDIR, ENV, COPY (from the context, through
 * .dockerignore, or --from an earlier stage), RUN (in the stage's root, as
 * its user, with its environment), and the image's settings (USER, ENTRYPOINT,
 * CMD, HEALTHCHECK, EXPOSE, VOLUME) kept. What it does not know, it refuses,
 * so the Dockerfile cannot grow a step this build quietly skips.
 */
import { cpSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';
import { commandArgs, envPairs, parseDockerfile, takeFlags, type Instruction } from './dockerfile.ts';
import { contextFilter } from './dockerignore.ts';
import { finished, ImageRoot } from './image-root.ts';

export interface ImageConfig {
  env: Record<string, string>;
  user: string;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[] | undefined;
  exposed: string[];
  volumes: string[];
}

export interface BuiltImage {
  root: ImageRoot;
  config: ImageConfig;
}

/** The environment of the official node images. */
const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

class StageBuild {
  readonly config: ImageConfig = { env: { ...BASE_ENV }, user: 'root', workdir: '/', entrypoint: [], cmd: [], healthcheck: undefined, exposed: [], volumes: [] };
  readonly name: string | undefined;
  readonly root: ImageRoot;
  private readonly context: string;
  private readonly earlier: StageBuild[];
  private readonly say: (line: string) => void;
  private readonly buildEnv: Record<string, string>;

  constructor(name: string | undefined, root: ImageRoot, context: string, earlier: StageBuild[], options: BuildOptions) {
    this.name = name;
    this.root = root;
    this.context = context;
    this.earlier = earlier;
    this.say = options.say;
    this.buildEnv = options.buildEnv ?? {};
  }

  async apply({ keyword, args, line }: Instruction): Promise<void> {
    const where = `Dockerfile line ${line}`;
    switch (keyword) {
      case 'WORKDIR':
        this.config.workdir = posix.resolve(this.config.workdir, args);
        mkdirSync(join(this.root.dir, this.config.workdir), { recursive: true });
        return;
      case 'ENV':
        for (const [key, value] of envPairs(args)) {
          if (value.includes('$')) throw new Error(`${where}: ENV with a $ reference is not followed here`);
          this.config.env[key] = value;
        }
        return;
      case 'COPY':
        return this.copy(args, where);
      case 'RUN': {
        this.say(`RUN ${args}`);
        const started = Date.now();
        const env = { ...this.config.env, ...this.buildEnv };
        const { code, stdout, stderr } = await finished(this.root.spawn(commandArgs(args), { ...this.config, env }));
        if (code !== 0) throw new Error(`${where}: RUN ${args} exited ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
        for (const line of (stdout + stderr).split('\n').filter((l) => l.trim() !== '')) this.say(`  ${line}`);
        this.say(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      case 'USER':
        this.root.user(args);
        this.config.user = args;
        return;
      case 'ENTRYPOINT':
        this.config.entrypoint = commandArgs(args);
        return;
      case 'CMD':
        this.config.cmd = commandArgs(args);
        return;
      case 'HEALTHCHECK': {
        const { rest } = takeFlags(args);
        if (rest === 'NONE') this.config.healthcheck = undefined;
        else if (rest.startsWith('CMD ')) this.config.healthcheck = commandArgs(rest.slice(4).trim());
        else throw new Error(`${where}: HEALTHCHECK ${args} not understood`);
        return;
      }
      case 'EXPOSE':
        this.config.exposed.push(...args.split(/\s+/));
        return;
      case 'VOLUME':
        this.config.volumes.push(...(args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/)));
        return;
      default:
        throw new Error(`${where}: ${keyword} is not followed by test/install/image-build.ts: teach it, or the image goes untested`);
    }
  }

  /** COPY [--from=stage] src... dest, with Docker's rules: a directory's contents are copied, not the directory. */
  private copy(args: string, where: string): void {
    const { flags, rest } = takeFlags(args);
    for (const flag of flags.keys()) if (flag !== 'from') throw new Error(`${where}: COPY --${flag} is not followed here`);
    const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
    const dest = posix.resolve(this.config.workdir, parts.pop()!);
    const intoDirectory = rest.trimEnd().endsWith('/') || rest.trimEnd().endsWith('/"]') || parts.length > 1;
    const from = flags.get('from');
    const stage = from === undefined ? undefined : this.earlier.find((s) => s.name === from);
    if (from !== undefined && !stage) throw new Error(`${where}: COPY --from=${from}: no such stage`);
    const filter = contextFilter(this.context);
    for (const src of parts) {
      if (/[*?[]/.test(src)) throw new Error(`${where}: COPY with a wildcard is not followed here`);
      const source = stage ? join(stage.root.dir, posix.resolve('/', src)) : join(this.context, src);
      if (!stage && !filter.mayIncludeBelow(posix.normalize(src).replace(/\/$/, ''))) throw new Error(`${where}: COPY ${src}: excluded from the build context by .dockerignore`);
      const isDirectory = lstatSync(source).isDirectory();
      const target = join(this.root.dir, isDirectory || !intoDirectory ? dest : posix.join(dest, basename(src)));
      const fromContext = (path: string) => {
        const rel = relative(this.context, path);
        return statSync(path).isDirectory() ? filter.mayIncludeBelow(rel) : filter.included(rel);
      };
      cpSync(source, target, { recursive: true, verbatimSymlinks: true, ...(stage ? {} : { filter: fromContext }) });
    }
  }
}

export interface BuildOptions {
  say: (line: string) => void;
  /** Added to RUN's environment only, as a build's --build-arg or a CI's npm settings would be: not part of the image. */
  buildEnv?: Record<string, string>;
}

/** Builds every stage of `dockerfile` with `context` as the build context, in `dir`; the last stage is the image. */
export async function buildImage(dockerfile: string, context: string, dir: string, options: BuildOptions): Promise<BuiltImage> {
  const { say } = options;
  const stages: StageBuild[] = [];
  for (const [index, stage] of parseDockerfile(readFileSync(dockerfile, 'utf8')).entries()) {
    if (!/^node:24(-slim)?$/.test(stage.from)) throw new Error(`FROM ${stage.from}: only node:24 and node:24-slim are stood in for (by the host's Debian and this Node)`);
    say(`FROM ${stage.from}${stage.name ? ` AS ${stage.name}` : ''}`);
    const build = new StageBuild(stage.name, ImageRoot.base(join(dir, `stage-${index}`)), context, [...stages], options);
    for (const instruction of stage.instructions) await build.apply(instruction);
    stages.push(build);
  }
  const image = stages.at(-1);
  if (!image) throw new Error(`${dockerfile}: no FROM`);
  return { root: image.root, config: image.config };
}
