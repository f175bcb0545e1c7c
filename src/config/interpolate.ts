/**
 * `${VAR}` and `${VAR:-default}` in configuration values, as a shell would.
 * `$${` escapes a literal `${`. Applied to the parsed YAML's strings, not to
 * the raw text, so comments are left alone and a value cannot inject YAML.
 * A missing variable without a default is an error naming it and the setting.
 */
const PATTERN = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv, where: string): string {
  const missing: string[] = [];
  const out = text.replace(PATTERN, (match, escaped: string, name: string, fallback: string | undefined) => {
    if (escaped) return match.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return match;
  });
  if (missing.length > 0) {
    throw new Error(`${where}: environment variable ${missing.map((n) => '${' + n + '}').join(', ')} is not set and has no default (write \${NAME:-default})`);
  }
  return out;
}

/**
 * Lists whose items cannot hold a comma, where a variable holding
 * `a:9092,b:9092` (as /etc/default/logship and the demo set KAFKA_BROKERS)
 * is a list: `brokers: ["${KAFKA_BROKERS}"]` and `brokers: ${KAFKA_BROKERS}`
 * both give two brokers. Not globs (paths, exclude): `{a,b}.log` is one.
 */
const COMMA_LISTS = new Set(['kafka.brokers']);

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Interpolates every string in a parsed document; errors name the setting (`kafka.brokers[0]`). */
export function interpolateTree(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (COMMA_LISTS.has(path)) {
    if (typeof value === 'string') return commaList(interpolateEnv(value, env, path));
    if (Array.isArray(value)) return value.flatMap((item, i) => (typeof item === 'string' ? commaList(interpolateEnv(item, env, `${path}[${i}]`)) : [item]));
  }
  if (typeof value === 'string') return interpolateEnv(value, env, path || '(top level)');
  if (Array.isArray(value)) return value.map((item, i) => interpolateTree(item, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateTree(item, env, path ? `${path}.${key}` : key)]));
  }
  return value;
}
