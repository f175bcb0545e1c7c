/**
 * nginx's `escape=` parameter of `log_format`: how variable values were
 * written, hence how the parser must read them back.
 *
 * - `default`: `"`, `\`, bytes below 0x20 and 0x7F and up become `\xHH`;
 *   a variable that is not set is written as `-`.
 * - `json`: JSON string escapes (`\"`, `\\`, `\n`, `\u0001`...); bytes 0x80
 *   and up are written raw; a variable that is not set is written as nothing.
 * - `none`: values are written as they are; a variable that is not set is
 *   written as nothing.
 */
export type Escape = 'default' | 'json' | 'none';

export const ESCAPES: readonly Escape[] = ['default', 'json', 'none'];

export function isEscape(value: string): value is Escape {
  return value === 'default' || value === 'json' || value === 'none';
}
