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
  /** A matching path was unlinked or renamed away; lets the reader notice before its next poll. */
  removed(path: string): void;
  /** A periodic scan is done (its files handled). */
  scanned(): Promise<void>;
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
    this.watcher.on('unlink', (path) => this.events.removed(path));
    this.watcher.on('error', (err) => this.log.warn({ err }, 'file watcher error; the periodic scan still finds files'));
    this.timer = setInterval(() => void this.scan().then(() => this.events.scanned()), this.options.scanIntervalMs);
    this.timer.unref();
  }

  /**
   * Expands the globs now; resolves when every match has been reported and
   * handled. Shorter names first: a log before its rotated copies
   * (access.log before access.log.1), so the original is known when a copy
   * of it is found.
   */
  async scan(): Promise<void> {
    try {
      const paths: string[] = [];
      for await (const path of glob(this.patterns, { exclude: (p) => this.exclude.some((e) => matchesGlob(resolve(p), e)) })) paths.push(resolve(path));
      paths.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
      await Promise.all(paths.map((path) => this.events.found(path)));
    } catch (err) {
      this.log.warn({ err, paths: this.options.paths }, 'glob scan failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.watcher?.close();
  }
}
