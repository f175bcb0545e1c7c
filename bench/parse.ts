/**
 * Parser throughput on generated realistic traffic, one core:
 * `npm run bench:parse [-- --lines N]`. Numbers only; nothing asserts them.
 */
import { compileLogFormat, ParseError, resolveFormat } from '../src/parse/index.ts';
import { generateLines } from './generate-lines.ts';

const argLines = process.argv.indexOf('--lines');
const COUNT = argLines > 0 ? Number(process.argv[argLines + 1]) : 200_000;
const ROUNDS = 5;
const FORMATS = ['combined', 'upstreaminfo', 'json'];

interface Result { nsPerLine: number; linesPerSecond: number }

function measure(lines: readonly string[], run: (line: string) => number): Result {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) sink += run(lines[i]!);
    const ns = Number(process.hrtime.bigint() - start);
    best = Math.min(best, ns / lines.length);
  }
  if (sink === 0) throw new Error('nothing parsed');
  return { nsPerLine: best, linesPerSecond: 1e9 / best };
}

function measureRecords(records: readonly unknown[]): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < records.length; i++) sink += JSON.stringify(records[i]).length;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / records.length);
  }
  if (sink === 0) throw new Error('nothing serialised');
  return best;
}

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(14) : c.padStart(i % 2 === 1 ? 12 : 14))).join('');
}

console.log(`logship parser bench: ${COUNT} generated lines per format, best of ${ROUNDS} rounds, node ${process.version}`);
console.log(row(['format', 'parse ns', 'parse lines/s', '+JSON ns', '+JSON lines/s']) + '   JSON.stringify alone');
for (const name of FORMATS) {
  const parser = compileLogFormat(resolveFormat({ format: name }));
  const lines = [...generateLines({ format: name, count: COUNT, seed: 42 })];
  const bad = lines.filter((l) => parser.parse(l) instanceof ParseError).length;
  if (bad > 0) throw new Error(`${name}: ${bad} generated lines did not parse`);
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0) / lines.length;
  const parse = measure(lines, (line) => (parser.parse(line) instanceof ParseError ? 0 : 1));
  const json = measure(lines, (line) => JSON.stringify(parser.parse(line)).length);
  // What serialisation alone costs on this machine, for reading the columns above.
  const records = lines.map((line) => parser.parse(line));
  const stringifyOnly = measureRecords(records);
  console.log(
    row([name, parse.nsPerLine.toFixed(0), Math.round(parse.linesPerSecond).toLocaleString('en-US'), json.nsPerLine.toFixed(0), Math.round(json.linesPerSecond).toLocaleString('en-US')]) +
      `   ${stringifyOnly.toFixed(0)} ns   (${bytes.toFixed(0)} B/line)`,
  );
}
