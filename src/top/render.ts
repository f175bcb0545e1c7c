/**
 * `logship top`'s two forms of a TopView: tables for a terminal
 * (redrawn in place by the command), one plain line for a pipe.
 */
import bytes from 'bytes-iec';
import Table from 'cli-table3';
import ms from 'ms';
import type { InputRow, TopView } from './view-model.ts';

/** What a figure not known (no such series, or no earlier scrape for a rate) shows. */
export const UNKNOWN = '–';

const count = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const fraction = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

function perSecond(n: number | undefined): string {
  return n === undefined ? UNKNOWN : `${(n < 10 ? fraction : count).format(n)}/s`;
}

function integer(n: number | undefined): string {
  return n === undefined ? UNKNOWN : count.format(n);
}

function size(n: number | undefined): string {
  return n === undefined ? UNKNOWN : (bytes.format(n, { mode: 'binary' }) ?? UNKNOWN);
}

function age(seconds: number | undefined): string {
  if (seconds === undefined) return UNKNOWN;
  return seconds === 0 ? '0s' : ms(Math.round(seconds * 1000));
}

function outputs(view: TopView): string {
  if (view.outputs.length === 0) return `output ${UNKNOWN}`;
  return view.outputs.map((o) => `${o.output} ${o.up ? 'up' : 'DOWN'}`).join(', ');
}

function agentSummary(view: TopView): string {
  return `spool ${size(view.spoolBytes)} in ${integer(view.spoolEntries)} entries, oldest ${age(view.spoolOldestAgeSeconds)}; in-flight batches ${integer(view.inFlightBatches)}; ${outputs(view)}`;
}

/** Keeps the end of a long path, where the file's name is. */
function fit(path: string, width: number): string {
  return path.length <= width ? path : `…${path.slice(path.length - width + 1)}`;
}

// No colours (a pipe, tmux, a log keep them readable); no rule between rows.
const PLAIN_STYLE = { head: [], border: [], compact: true };

export interface Screen {
  columns: number;
  rows: number;
}

/** The terminal form: a table of inputs, one of the files lagging most that fit, and a line for spool and output. */
export function renderTables(view: TopView, title: string, screen: Screen): string {
  const inputs = new Table({
    head: ['input', 'lines/s in', 'acked/s', 'parse errors', 'dead letters', 'lag', 'lag age', 'files'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: PLAIN_STYLE,
  });
  for (const row of view.inputs) {
    inputs.push([row.input, perSecond(row.linesPerSecond), perSecond(row.ackedPerSecond), integer(row.parseErrors), integer(row.deadLetters), size(row.lagBytes), age(row.lagSeconds), String(row.files)]);
  }
  if (view.inputs.length === 0) inputs.push([{ colSpan: 8, content: 'no inputs reported yet' }]);
  // Lines besides the file rows: the title, the inputs' table (its rows and 4 of frame and head), the summary,
  // the files' frame and head (4), a "more" row, the cursor's line.
  const room = Math.max(3, screen.rows - (1 + (Math.max(1, view.inputs.length) + 4) + 1 + 4 + 1 + 1));
  const shown = view.files.slice(0, room);
  const pathWidth = Math.max(20, screen.columns - 45);
  const files = new Table({ head: ['file (most lag first)', 'input', 'lag', 'lag age'], colAligns: ['left', 'left', 'right', 'right'], style: PLAIN_STYLE });
  for (const f of shown) files.push([fit(f.path, pathWidth), f.input, size(f.lagBytes), age(f.lagSeconds)]);
  if (view.files.length > shown.length) files.push([{ colSpan: 4, content: `… ${view.files.length - shown.length} more files` }]);
  return [title, inputs.toString(), agentSummary(view), files.toString()].join('\n');
}

function inputPart(row: InputRow): string {
  return `${row.input}: in ${perSecond(row.linesPerSecond)} acked ${perSecond(row.ackedPerSecond)} parse_errors ${integer(row.parseErrors)} dead_letters ${integer(row.deadLetters)} lag ${size(row.lagBytes)} ${age(row.lagSeconds)} files ${row.files}`;
}

/** The pipe form: one line per scrape, every input on it. */
export function renderLine(view: TopView, at: Date): string {
  const inputs = view.inputs.length === 0 ? 'no inputs reported yet' : view.inputs.map(inputPart).join(' | ');
  return `${at.toISOString()} ${inputs} || ${agentSummary(view)}`;
}
