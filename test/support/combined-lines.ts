/** nginx `combined` lines for tests, each different and recognisable by its index. */
export function combinedLine(i: number): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const status = [200, 201, 304, 404, 500][i % 5];
  const seconds = String(i % 60).padStart(2, '0');
  return `${ip} - - [22/Nov/2026:10:00:${seconds} +0000] "GET /item/${i}?q=${i} HTTP/1.1" ${status} ${1000 + i} "-" "test-agent/${i}"`;
}

export function combinedLines(from: number, count: number): string {
  let out = '';
  for (let i = from; i < from + count; i++) out += combinedLine(i) + '\n';
  return out;
}
