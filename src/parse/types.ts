/**
 * The parser's contract with the rest of the pipeline. Parsing is pure:
 * one line (already decoded to a string, newline stripped) in, one record
 * or one ParseError out. No I/O, no clocks, no globals.
 */

/**
 * A value as it lands in the JSON record. Booleans and objects only come
 * from a JSON log's own values (a key no variable maps to), kept as written.
 */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/**
 * One parsed line. Keys are the nginx variable names without `$`
 * (plus `@timestamp` and the parts derived from `$request`), in format order;
 * a JSON log's keys that no variable maps to are kept as they are, in line order.
 */
export type LogRecord = Record<string, FieldValue>;

/** Why a line did not match its format. Allocated only for bad lines. */
export class ParseError {
  readonly reason: string;
  /** Character offset in the line where matching failed, when known. */
  readonly column: number;
  constructor(reason: string, column = -1) {
    this.reason = reason;
    this.column = column;
  }
}

export interface LineParser {
  /** The keys a record of this format can hold (for validating templates at start-up). */
  readonly fields: readonly string[];
  /** Records may also hold keys not in `fields` (a JSON log read without its log_format: the line's own keys). */
  readonly openKeys?: boolean;
  parse(line: string): LogRecord | ParseError;
}
