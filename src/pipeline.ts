/**
 * The whole product on one screen:
 *
 *   files ─► Tailer ─► LineEncoder (parse + encode) ─► Batcher ─► Delivery ─► Kafka
 *              ▲                                                     │ acked
 *              └──── resume ◄── (slots free) ◄───────────────────────┤
 *                  CheckpointStore ◄── OffsetTracker (per file) ◄────┘
 */
import type { Server } from 'node:http';
import { Batcher } from './batch/batcher.ts';
import { CheckpointStore } from './checkpoint/checkpoint-store.ts';
import { formatProblem } from './config/format-problem.ts';
import { ConfigError } from './config/load.ts';
import { reloadPlan, withSettings } from './config/reload-plan.ts';
import type { Config, InputConfig } from './config/types.ts';
import { FirstLinesWatch } from './encode/first-lines-watch.ts';
import { LineEncoder, type Routing } from './encode/line-encoder.ts';
import { sourceOf } from './encode/record-json.ts';
import { compileTemplate, destinationName } from './encode/template.ts';
import { describeKafkaError } from './kafka/describe-error.ts';
import type { BatchProducer } from './kafka/batch-producer.ts';
import { Delivery } from './kafka/delivery.ts';
import { pause } from './kafka/retry-policy.ts';
import type { Logger } from './observe/logger.ts';
import { Stats, type InputCounters } from './observe/stats.ts';
import { compileLogFormat, resolveFormat, type LineParser } from './parse/index.ts';
import { ContainerLineSink, k8sMetadataFromPath } from './tail/container/index.ts';
import { createMetrics } from './observe/metrics.ts';
import { createProducer, OUTPUT_NAMES } from './output/create-producer.ts';
import { IdleMemory } from './observe/idle-memory.ts';
import { memoryBound, memorySettings, PER_FILE } from './observe/memory-bound.ts';
import { startHttpServer } from './observe/http-server.ts';
import { readiness, type Readiness } from './observe/readiness.ts';
import { Tap, tapPolicy } from './observe/tap.ts';
import { Spool, spoolOptions } from './spool/index.ts';
import { Tailer } from './tail/tailer.ts';
import { transformsOf } from './transform/routing.ts';
import type { LineSink } from './tail/types.ts';
import { SyslogInput } from './syslog/syslog-input.ts';
import { syslogEncoders } from './syslog/syslog-encoders.ts';
import { registerSyslogMetrics } from './syslog/syslog-metrics.ts';
import { SYSLOG_SOURCE_FIELDS } from './syslog/syslog-sources.ts';

/** Quiet time after the last batch before the agent gives memory back (observe/idle-memory.ts). */
const IDLE_MEMORY_MS = 10_000;

/** Retry delay for a checkpoint save that failed (saves themselves follow acks at once). */
const CHECKPOINT_RETRY_MS = 1000;

const SOURCE_FIELDS = ['host', 'path', 'input'];
const K8S_SOURCE_FIELDS = ['namespace', 'pod', 'container', 'container_id'];

/**
 * Compiles an input's log format and its topic and key templates; a bad
 * one is a configuration error naming the input, raised before anything
 * starts, not at the first line.
 */
export function inputRouting(input: InputConfig, index: number, config: Pick<Config, 'kafka' | 'output'>, env: NodeJS.ProcessEnv = process.env): { parser: LineParser; routing: Routing } {
  const { kafka } = config;
  const where = `inputs[${index}] (${input.name})`;
  let parser: LineParser;
  try {
    parser = compileLogFormat(resolveFormat({ format: input.format, nginxConf: input.nginx_conf, name: input.format_name }));
  } catch (err) {
    throw new ConfigError(where, [formatProblem(err, input.format, `inputs[${index}].${input.format !== undefined ? 'format' : 'nginx_conf'}`)]);
  }
  try {
    // Templates name the fields of the record as shipped: after its transforms.
    const transforms = transformsOf(input, index, parser, kafka, env);
    const known = {
      record: transforms?.fields.names ?? parser.fields,
      source: input.type === 'syslog' ? SYSLOG_SOURCE_FIELDS : input.container === 'none' ? SOURCE_FIELDS : [...SOURCE_FIELDS, ...K8S_SOURCE_FIELDS],
      openRecord: transforms?.fields.open ?? parser.openKeys === true,
    };
    const routing: Routing = {
      topic: compileTemplate(input.topic ?? kafka.topic, known, input.topic ? `${where}.topic` : 'kafka.topic'),
      destination: destinationName(config.output.type),
      key: kafka.key === undefined ? undefined : compileTemplate(kafka.key, known, 'kafka.key'),
      deadLetterTopic: kafka.dead_letter_topic,
      onError: input.on_error,
      idInRecord: kafka.message_format === 'ndjson',
      maxMessageBytes: kafka.max_message_bytes,
      transforms,
    };
    return { parser, routing };
  } catch (err) {
    throw new ConfigError(where, [(err as Error).message]);
  }
}

/** Unwraps container runtime lines before the encoder; bad wrapper lines are counted and logged once per file. */
function containerSink(encoder: LineSink, input: InputConfig, counters: InputCounters, log: Logger): LineSink {
  const warned = new WeakSet<object>();
  return new ContainerLineSink(encoder, {
    mode: input.container as 'cri' | 'docker' | 'auto',
    maxBytes: input.max_line_bytes,
    events: {
      malformed: (file, reason, lineOffset) => {
        counters.container_malformed_lines++;
        if (warned.has(file)) return;
        warned.add(file);
        log.warn({ path: file.path, offset: lineOffset, reason }, 'not a container runtime line; passed on raw (further ones in this file are only counted)');
      },
      longMessage: () => counters.container_long_messages++,
    },
  });
}

interface RunningInput {
  input: InputConfig;
  /** A file input's tailer, or a syslog input (syslog/), which stands in its place. */
  tailer: Tailer | SyslogInput;
  /** Its encoders, each with the settings its routing was compiled from (a syslog tag's own): a reload reroutes them. */
  encoders: { encoder: LineEncoder; routedAs: InputConfig }[];
}

export class Pipeline {
  readonly stats = new Stats();
  private config: Config;
  private readonly log: Logger;
  private readonly producer: BatchProducer;
  private readonly checkpoints: CheckpointStore;
  private readonly batcher: Batcher;
  private readonly delivery: Delivery;
  /** By input name: SIGHUP adds, removes and replaces inputs without a restart. */
  private inputs = new Map<string, RunningInput>();
  private server: Server | undefined;
  private state: 'created' | 'running' | 'stopping' = 'created';
  private spool: Spool | undefined;
  private readonly idleMemory = new IdleMemory(IDLE_MEMORY_MS, () => this.batcher.releaseBuffers());
  /** `logship tap`: served on /tap; the encoders offer it their messages while a session is open. */
  private readonly tap: Tap;

  /** `checkpoints`: state_dir's, or one in memory only (`run --dry-run`). */
  constructor(config: Config, log: Logger, producer: BatchProducer = createProducer(config, log, this.stats), checkpoints = new CheckpointStore(config.state_dir, log)) {
    this.config = config;
    this.log = log;
    this.producer = producer;
    this.checkpoints = checkpoints;
    this.tap = new Tap(tapPolicy(config.metrics), log.child({ stage: 'tap' }));
    this.delivery = new Delivery(
      producer,
      {
        maxInFlight: config.kafka.max_in_flight,
        maxRecords: config.batch.max_records,
        maxRequestBytes: config.batch.max_bytes,
        initialBackoffMs: config.kafka.retry_backoff_ms,
        maxBackoffMs: config.kafka.retry_backoff_max_ms,
        brokers: config.kafka.brokers,
        outputName: OUTPUT_NAMES[config.output.type],
        whenDurable: () => this.checkpoints.whenSaved(),
        onFree: () => this.batcher.sendable(),
      },
      this.stats,
      log,
      () => this.resume(),
    );
    this.batcher = new Batcher(
      { maxRecords: config.batch.max_records, maxBytes: config.batch.max_bytes, lingerMs: config.batch.linger_ms, arenas: config.kafka.max_in_flight + 1 },
      (batch) => {
        this.idleMemory.activity();
        this.delivery.submit(batch);
      },
      // Adaptive: a batch goes as soon as Kafka is free, and fills while a request is in flight.
      () => this.delivery.idle,
    );
    this.inputs = this.buildInputs(config);
  }

  /** Every input's tailer, its parser and templates compiled: a bad one throws here, before anything runs. */
  private buildInputs(config: Config): Map<string, RunningInput> {
    const built = new Map<string, RunningInput>();
    config.inputs.forEach((input, index) => {
      const counters = this.stats.input(input.name);
      if (input.type === 'syslog') {
        const encoders: RunningInput['encoders'] = [];
        const sinks = syslogEncoders(
          input,
          index,
          (i) => inputRouting(i, index, config),
          (parser, routing, routedAs) => {
            const encoder = new LineEncoder(parser, routing, this.batcher, () => this.delivery.full, counters, this.tap);
            encoders.push({ encoder, routedAs });
            return encoder;
          },
        );
        built.set(input.name, { input, tailer: new SyslogInput(input, config.host, sinks, this.log), encoders });
        return;
      }
      const { parser, routing } = inputRouting(input, index, config);
      const encoder = new LineEncoder(parser, routing, this.batcher, () => this.delivery.full, counters, this.tap);
      const watched: LineSink = new FirstLinesWatch(encoder, counters, (file, lines) =>
        this.log.warn({ input: input.name, path: file.path, lines, on_error: input.on_error }, `none of the first ${lines} lines of ${file.path} parse with input ${input.name}'s format: another kind of log (error.log?) that exclude should leave out, or the wrong format`),
      );
      const container = input.container !== 'none';
      const tailer = new Tailer(input, {
        sink: container ? containerSink(watched, input, counters, this.log) : watched,
        checkpoints: this.checkpoints,
        stats: this.stats,
        log: this.log,
        source: (path) => sourceOf(config.host, path, input.name, container ? k8sMetadataFromPath(path) : undefined),
      });
      built.set(input.name, { input, tailer, encoders: [{ encoder, routedAs: input }] });
    });
    return built;
  }

  private get tailers(): (Tailer | SyslogInput)[] {
    return [...this.inputs.values()].map((i) => i.tailer);
  }

  /**
   * Starts following files. Kafka being unreachable (or refusing the
   * credentials) is not fatal: it is logged clearly, reading pauses once
   * the in-flight batches are full, and sending is retried with backoff, so
   * a broker outage or a fixed secret needs no restart and causes no crash loop.
   */
  async start(): Promise<void> {
    const { brokers } = this.config.kafka;
    this.producer.connect().then(
      () => {
        this.delivery.contacted(undefined);
        this.log.info({ brokers }, `connected to ${OUTPUT_NAMES[this.config.output.type]}`);
      },
      (err: unknown) => {
        const { kind, message } = this.producer.describeError?.(err, []) ?? describeKafkaError(err, { brokers, topics: [] });
        this.delivery.contacted({ kind, message });
        this.stats.error(kind);
        this.log.error({ err, kind }, `${message}; will keep trying as records come`);
      },
    );
    this.checkpoints.startAutoSave(CHECKPOINT_RETRY_MS);
    if (this.config.spool.enabled) {
      this.spool = await Spool.open(spoolOptions(this.config.spool), this.log.child({ stage: 'spool' }));
      this.delivery.attachSpool(this.spool, this.config.spool.keep_order);
    }
    if (this.config.metrics.enabled) {
      const registry = createMetrics({
        stats: this.stats,
        files: () => this.tailers.flatMap((t) => [...t.fileStates()]),
        openFiles: () => this.tailers.reduce((n, t) => n + t.openDescriptors, 0),
        spool: () => this.delivery.spoolStats(),
        memoryBound: () => this.memoryBound(),
        outputUp: () => this.delivery.up,
        output: this.config.output.type,
      });
      registerSyslogMetrics(registry, () => this.tailers.filter((t) => t instanceof SyslogInput));
      this.server = await startHttpServer(this.config.metrics.listen, registry, { readiness: () => this.readiness() }, this.log, this.tap);
    }
    for (const tailer of this.tailers) await tailer.start();
    this.state = 'running';
    this.reportUnowned();
    this.log.info({ memory_bound_mib: Math.ceil(this.memoryBound() / 2 ** 20), followed_files: this.followedFiles(), per_more_file_kib: PER_FILE / 1024 }, 'memory bound for these settings (RSS; a container limit needs room above it)');
  }

  private readiness(): Readiness {
    return readiness({ state: this.state, output: OUTPUT_NAMES[this.config.output.type], failing: this.delivery.failingHow, spoolAccepting: this.delivery.spoolAccepting });
  }

  /**
   * Applies a new configuration (SIGHUP) as config/reload-plan.ts says:
   * inputs that are gone stop, new ones start, changed ones restart, the
   * others go on untouched (their routing compiled again if the topic, key
   * or dead-letter topic changed); log_level, linger_ms and
   * shutdown_timeout_ms apply at once. Settings only a restart applies are
   * named at warn level. A configuration that fails to compile changes nothing.
   */
  async reload(next: Config): Promise<void> {
    const plan = reloadPlan(this.config, next);
    const target = withSettings(this.config, next, plan.applied);
    const rerouted = ['kafka.topic', 'kafka.key', 'kafka.dead_letter_topic'].some((path) => plan.applied.includes(path));
    // Compiled before anything changes: a bad template refuses the whole reload.
    const reroutes: (() => void)[] = [];
    const keep = new Map<string, RunningInput>();
    const wanted = next.inputs.filter((input, index) => {
      const running = this.inputs.get(input.name);
      if (running && JSON.stringify(running.input) === JSON.stringify(input)) {
        keep.set(input.name, running);
        for (const { encoder, routedAs } of rerouted ? running.encoders : []) {
          const { routing } = inputRouting(routedAs, index, target);
          reroutes.push(() => encoder.reroute(routing));
        }
        return false;
      }
      return true;
    });
    const built = this.buildInputs({ ...target, inputs: wanted });
    // What applies at once: the inputs kept take the new routing from their next line.
    for (const reroute of reroutes) reroute();
    if (target.log_level !== this.config.log_level) this.log.level = target.log_level;
    if (target.batch.linger_ms !== this.config.batch.linger_ms) this.batcher.setLinger(target.batch.linger_ms);
    const stopped = [...this.inputs.keys()].filter((name) => !keep.has(name));
    const retired = stopped.map((name) => this.inputs.get(name)!.tailer);
    await Promise.all(retired.map((tailer) => tailer.stop()));
    // What the retired tailers handed over is acknowledged before a new tailer reads their files from the checkpoints: no line twice.
    this.batcher.flush();
    let settled = false;
    await pause(target.shutdown_timeout_ms, { wake: Promise.all(retired.map((tailer) => tailer.settled())).then(() => (settled = true)) });
    if (!settled) this.log.warn({ inputs: stopped }, 'reload: lines of the replaced inputs not acknowledged in time; they may be shipped again');
    for (const [name, running] of built) {
      keep.set(name, running);
      await running.tailer.start();
    }
    this.inputs = keep;
    this.config = target;
    const report = { stopped, started: [...built.keys()], unchanged: next.inputs.length - built.size, applied: plan.applied, restart_needed_for: plan.restart };
    if (plan.restart.length === 0) this.log.info(report, 'configuration reloaded');
    else this.log.warn(report, `configuration reloaded; these changed settings keep their running values until a restart: ${plan.restart.join(', ')}`);
  }

  /** Resolves once every file found so far has been read to the end it had (`run --dry-run --once`). */
  async readToEnd(): Promise<void> {
    await Promise.all(this.tailers.map((t) => t.whenIdle()));
  }

  private resume(): void {
    for (const tailer of this.tailers) tailer.resume();
  }

  private followedFiles(): number {
    return this.tailers.reduce((n, t) => n + t.followedCount, 0);
  }

  /** The RSS these settings and the files followed now can take (observe/memory-bound.ts). */
  private memoryBound(): number {
    return memoryBound(memorySettings(this.config), this.followedFiles());
  }

  /** Checkpoints no input follows any more (its input removed or renamed) are kept, not forgotten: said once. */
  private reportUnowned(): void {
    const unowned: string[] = [];
    for (const key of this.checkpoints.keys()) {
      const entry = this.checkpoints.get(key)!;
      if (!this.tailers.some((t) => t.owns(entry))) unowned.push(entry.path);
    }
    if (unowned.length > 0) {
      this.log.warn({ files: unowned.length, paths: unowned.slice(0, 10) }, 'checkpoints of files no configured input follows (input removed or renamed?); kept, not read');
    }
  }

  /** Stops reading, ships what is batched, saves checkpoints. Returns whether everything read was acked. */
  async stop(): Promise<boolean> {
    this.state = 'stopping';
    await Promise.all(this.tailers.map((t) => t.stop()));
    this.batcher.flush();
    const delivered = await this.delivery.drain(this.config.shutdown_timeout_ms);
    if (!delivered) this.log.warn('shutdown timeout: some batches were not acked; their lines will be read again on the next start');
    this.idleMemory.stop();
    await this.spool?.close();
    await this.checkpoints.close();
    await this.producer.close().catch((err: unknown) => this.log.warn({ err }, `closing the ${OUTPUT_NAMES[this.config.output.type]} producer failed`));
    this.tap.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.log.info({ counters: this.stats.counters }, 'stopped');
    return delivered;
  }
}
