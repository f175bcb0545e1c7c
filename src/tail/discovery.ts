import { glob } from 'node:fs/promises';
import { matchesGlob, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../observe/logger.ts';
import { globBase } from './glob-base.ts';

export interface DiscoveryOptions {
  paths: string[];
  exclude: string[];
  scanIntervalMs: number;
}

export interface DiscoveryEvents {
  /** A matching file exists (new, or seen again by a scan). Called repeatedly; the receiver dedupes. */
  found(path: string): Promise<void>;
  /** A matching file changed; lets the reader wake before its next poll. */
  changed(path: string): void;
}

/**
 * Finds the files an input names. chokidar reports files as they appear;
 * a periodic glob scan is the safety net for filesystems where events are
 * missed (NFS, some overlay setups) and for directories created later.
 */
export class Discovery {
  private readonly patterns: string[];
  private readonly exclude: string[];
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly options: DiscoveryOptions;
  private readonly events: DiscoveryEvents;
  private readonly log: Logger;

  constructor(options: DiscoveryOptions, events: DiscoveryEvents, log: Logger) {
    this.options = options;
    this.events = events;
    this.log = log;
    this.patterns = options.paths.map((p) => resolve(p));
    this.exclude = options.exclude.map((p) => resolve(p));
  }

  matches(path: string): boolean {
    return this.patterns.some((p) => matchesGlob(path, p)) && !this.exclude.some((p) => matchesGlob(path, p));
  }

  async start(): Promise<void> {
    await this.scan();
    const bases = this.patterns.map(globBase);
    this.watcher = watch(
      bases.map((b) => b.base),
      {
        ignoreInitial: true,
        persistent: false,
        // The deepest level any pattern can reach; undefined is unlimited.
        depth: bases.some((b) => b.depth === undefined) ? undefined : Math.max(...bases.map((b) => b.depth ?? 0)),
        ignored: (path, stats) => stats?.isFile() === true && !this.matches(path),
      },
    );
    this.watcher.on('add', (path) => void this.events.found(path));
    this.watcher.on('change', (path) => this.events.changed(path));
    this.watcher.on('error', (err) => this.log.warn({ err }, 'file watcher error; the periodic scan still finds files'));
    this.timer = setInterval(() => void this.scan(), this.options.scanIntervalMs);
    this.timer.unref();
  }

  /** Expands the globs now; resolves when every match has been reported and handled. */
  async scan(): Promise<void> {
    try {
      const handled: Promise<void>[] = [];
      for await (const path of glob(this.patterns, { exclude: (p) => this.exclude.some((e) => matchesGlob(resolve(p), e)) })) {
        handled.push(this.events.found(resolve(path)));
      }
      await Promise.all(handled);
    } catch (err) {
      this.log.warn({ err, paths: this.options.paths }, 'glob scan failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.watcher?.close();
  }
}
