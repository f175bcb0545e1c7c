/** A piece of a line for a ParseError reason: JSON-quoted, cut at 40 characters. */
export function excerpt(line: string, start: number, end: number): string {
  const cut = end - start > 40;
  return JSON.stringify(line.slice(start, cut ? start + 40 : end) + (cut ? '…' : ''));
}
