/**
 * The parser: compile an nginx log_format once, parse lines with it.
 *
 *   const parser = compileLogFormat(resolveFormat({ format: 'combined' }));
 *   const record = parser.parse(line); // LogRecord | ParseError
 */
export { compileLogFormat, TIMESTAMP_KEY } from './compile.ts';
export type { CompileInput, CompileOptions } from './compile.ts';
export { resolveFormat } from './resolve-format.ts';
export type { FormatSpec, ResolvedFormat } from './resolve-format.ts';
export { PRESETS, findPreset, presetNames } from './presets.ts';
export type { Preset } from './presets.ts';
export { FormatError } from './format-error.ts';
export type { Escape } from './escape.ts';
export { REQUEST_PARTS } from './request-line.ts';
export { ParseError } from './types.ts';
export type { FieldValue, LineParser, LogRecord } from './types.ts';
