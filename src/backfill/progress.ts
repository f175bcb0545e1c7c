import { formatSize } from '../config/units.ts';

/** What backfill has done so far; the bar, the plain line, the summary and the metrics read it. */
export interface BackfillFigures {
  files: number;
  filesDone: number;
  filesSkipped: number;
  fileErrors: number;
  /** On-disk bytes of the files to read (compressed bytes for compressed files). */
  bytesTotal: number;
  bytesDone: number;
  /** Lines handed to the pipeline (read past what was shipped before). */
  lines: number;
  startedAt: number;
  current: string;
}

export function newFigures(): BackfillFigures {
  return { files: 0, filesDone: 0, filesSkipped: 0, fileErrors: 0, bytesTotal: 0, bytesDone: 0, lines: 0, startedAt: Date.now(), current: '' };
}

const PLAIN_EVERY_MS = 5_000;

export interface Progress {
  update(): void;
  stop(): void;
}

function rateOf(figures: BackfillFigures): number {
  const seconds = (Date.now() - figures.startedAt) / 1000;
  return seconds > 0 ? Math.round(figures.lines / seconds) : 0;
}

function etaSeconds(figures: BackfillFigures): number | undefined {
  const seconds = (Date.now() - figures.startedAt) / 1000;
  if (figures.bytesDone === 0 || seconds <= 0) return undefined;
  return Math.round(((figures.bytesTotal - figures.bytesDone) * seconds) / figures.bytesDone);
}



/**
 * A progress bar (cli-progress) when stderr is a terminal; otherwise a
 * plain line every few seconds (journald, CI logs, a pipe).
 */
export async function startProgress(figures: BackfillFigures, stream: NodeJS.WriteStream = process.stderr): Promise<Progress> {
  if (stream.isTTY) {
    // Loaded only for a terminal.
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'backfill [{bar}] {percentage}% | files {done}/{files} | {bytes} | {lines} lines | {rate} lines/s | ETA {eta_formatted} | errors {errors} | {current}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = () => ({
      done: figures.filesDone + figures.filesSkipped + figures.fileErrors,
      files: figures.files,
      bytes: `${formatSize(figures.bytesDone)}/${formatSize(figures.bytesTotal)}`,
      lines: figures.lines,
      rate: rateOf(figures),
      errors: figures.fileErrors,
      current: figures.current,
    });
    bar.start(Math.max(1, figures.bytesTotal), 0, payload());
    return {
      update: () => bar.update(figures.bytesDone, payload()),
      stop: () => {
        bar.update(figures.bytesDone, payload());
        bar.stop();
      },
    };
  }
  // A line every few seconds, and one as each file is done.
  let printedAt = Date.now();
  let filesSeen = 0;
  const update = () => {
    const files = figures.filesDone + figures.filesSkipped + figures.fileErrors;
    if (files === filesSeen && Date.now() - printedAt < PLAIN_EVERY_MS) return;
    filesSeen = files;
    printedAt = Date.now();
    stream.write(`${plainLine(figures)}\n`);
  };
  return { update, stop: update };
}

export function plainLine(figures: BackfillFigures): string {
  const eta = etaSeconds(figures);
  return [
    `backfill: files ${figures.filesDone + figures.filesSkipped + figures.fileErrors}/${figures.files}`,
    `${formatSize(figures.bytesDone)}/${formatSize(figures.bytesTotal)}`,
    `${figures.lines} lines`,
    `${rateOf(figures)} lines/s`,
    `ETA ${eta === undefined ? '?' : `${eta}s`}`,
    `errors ${figures.fileErrors}`,
  ].join(', ');
}

/** The end-of-run summary, for a person. */
export function summary(figures: BackfillFigures, recordsSent: number, stopped: boolean): string {
  const seconds = (Date.now() - figures.startedAt) / 1000;
  const outcome = stopped
    ? 'stopped; run it again to go on where it stopped'
    : figures.fileErrors > 0
      ? `finished with ${figures.fileErrors} file(s) failed (see the log); a run again retries them from where they failed`
      : 'finished';
  return [
    `backfill ${outcome} in ${seconds.toFixed(1)} s:`,
    `  files shipped ${figures.filesDone}, skipped ${figures.filesSkipped} (done before, or followed by the agent), failed ${figures.fileErrors}`,
    `  ${figures.lines} lines read (${formatSize(figures.bytesDone)} on disk), ${recordsSent} records acknowledged by Kafka, ${rateOf(figures)} lines/s`,
  ].join('\n');
}
