import type { Readable } from 'node:stream';

/** Calls `onLine` for each line of a child's stdout: the parsed JSON object, or the text when it is not JSON. */
export function onJsonLines(stream: Readable, onLine: (line: Record<string, unknown> | string) => void): void {
  let pending = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let parsed: Record<string, unknown> | string;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = line;
      }
      onLine(parsed);
    }
  });
}
