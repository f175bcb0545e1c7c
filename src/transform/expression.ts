/**
 * The condition language of `filter` and `sample.always_keep`, parsed by
 * jsep and compiled once into a tree of closures over the record (nothing
 * is allocated per line):
 *
 *   status >= 500 or request_path == "/healthz"
 *   http_user_agent ~* "bot|spider" and not (request_method in ["GET", "HEAD"])
 *
 * - fields by name (`@timestamp` too); string ("..." or '...'), number,
 *   `true`, `false`, `null` literals; a list `[...]` of literals after `in`;
 * - `==` `!=` (no conversion: 200 is not "200"; a missing field is null),
 *   `<` `<=` `>` `>=` (two numbers or two strings, else false);
 * - `~` and `~*`: a regular expression (JavaScript syntax; `~*` ignores
 *   case) searched in the value (numbers as their digits), refused at
 *   start-up when it can backtrack catastrophically (safe-regex2);
 * - `and` `or` `not` (or `&&` `||` `!`), parentheses; a field alone is
 *   true when it is set and not "", 0, false or null.
 * A list field (upstream_status: [502, 200]) matches when one of its
 * elements does.
 */
import jsep from 'jsep';
import safeRegex from 'safe-regex2';
import type { FieldValue, LogRecord } from '../parse/types.ts';
import { checkField, type KnownFields } from './known-fields.ts';
import { TransformError } from './transform-error.ts';

export type Condition = (record: LogRecord) => boolean;
type Value = (record: LogRecord) => FieldValue | undefined;

// jsep is configured once for the whole process: only this module uses it.
jsep.addBinaryOp('or', 1);
jsep.addBinaryOp('and', 2);
jsep.addUnaryOp('not');
jsep.removeUnaryOp('~');
jsep.addBinaryOp('~', 7);
jsep.addBinaryOp('~*', 7);
jsep.addBinaryOp('in', 7);
jsep.addIdentifierChar('@');

type Scalar = string | number | boolean | null;

function equals(value: FieldValue | undefined, literal: Scalar): boolean {
  if (value === literal || (value === undefined && literal === null)) return true;
  if (!Array.isArray(value)) return false;
  for (const element of value) if (element === literal) return true;
  return false;
}

/** Two fields: equal as scalars, or one of a list's elements equal to the other. */
function sameValue(x: FieldValue | undefined, y: FieldValue | undefined): boolean {
  if (Array.isArray(y)) {
    for (const element of y) if (sameValue(x, element)) return true;
    return false;
  }
  return typeof y === 'object' && y !== null ? false : equals(x, y ?? null);
}

type Order = (a: number | string, b: number | string) => boolean;
const ORDERS: Record<string, Order> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function ordered(value: FieldValue | undefined, other: FieldValue | undefined, order: Order): boolean {
  if ((typeof value === 'number' && typeof other === 'number') || (typeof value === 'string' && typeof other === 'string')) return order(value, other);
  if (Array.isArray(value)) {
    for (const element of value) if (ordered(element, other, order)) return true;
  }
  return false;
}

function matches(value: FieldValue | undefined, pattern: RegExp): boolean {
  if (typeof value === 'string') return pattern.test(value);
  if (typeof value === 'number') return pattern.test(String(value));
  if (Array.isArray(value)) for (const element of value) if (matches(element, pattern)) return true;
  return false;
}

function member(value: FieldValue | undefined, set: ReadonlySet<Scalar>): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (member(element, set)) return true;
    return false;
  }
  return set.has(value === undefined ? null : (value as Scalar));
}

function truthy(value: FieldValue | undefined): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

class Compiler {
  private readonly text: string;
  private readonly known: KnownFields;
  private readonly setting: string;

  constructor(text: string, known: KnownFields, setting: string) {
    this.text = text;
    this.known = known;
    this.setting = setting;
  }

  fail(problem: string): never {
    throw new TransformError(this.setting, `${problem} in ${JSON.stringify(this.text)}`);
  }

  condition(node: jsep.Expression): Condition {
    if (node.type === 'BinaryExpression') {
      const { operator, left, right } = node as jsep.BinaryExpression;
      if (operator === 'and' || operator === '&&') {
        const a = this.condition(left);
        const b = this.condition(right);
        return (r) => a(r) && b(r);
      }
      if (operator === 'or' || operator === '||') {
        const a = this.condition(left);
        const b = this.condition(right);
        return (r) => a(r) || b(r);
      }
      return this.comparison(operator, left, right);
    }
    if (node.type === 'UnaryExpression') {
      const { operator, argument } = node as jsep.UnaryExpression;
      if (operator !== 'not' && operator !== '!') this.fail(`operator "${operator}" is not supported (use not)`);
      const a = this.condition(argument);
      return (r) => !a(r);
    }
    if (node.type === 'Identifier' || node.type === 'Literal') {
      const value = this.value(node);
      return (r) => truthy(value(r));
    }
    return this.fail(`${describe(node)} is not a condition`);
  }

  private comparison(operator: string, left: jsep.Expression, right: jsep.Expression): Condition {
    if (operator === '~' || operator === '~*') {
      if (right.type !== 'Literal' || typeof (right as jsep.Literal).value !== 'string') this.fail(`the right of ${operator} must be a quoted regular expression`);
      const pattern = this.regex((right as jsep.Literal).value as string, operator === '~*' ? 'i' : '');
      const value = this.value(left);
      return (r) => matches(value(r), pattern);
    }
    if (operator === 'in') {
      if (right.type !== 'ArrayExpression') this.fail('the right of in must be a list: [..., ...]');
      const set = new Set<Scalar>(
        (right as jsep.ArrayExpression).elements.map((element) => {
          if (element === null || (element.type !== 'Literal' && !isNegativeNumber(element))) return this.fail('a list after in holds only strings, numbers, true, false and null');
          return literalOf(element);
        }),
      );
      const value = this.value(left);
      return (r) => member(value(r), set);
    }
    if (operator === '==' || operator === '!=') {
      const negate = operator === '!=';
      // The usual case, a field against a literal, without a closure for the literal.
      const [field, literal] = right.type === 'Literal' ? [left, right] : left.type === 'Literal' ? [right, left] : [undefined, undefined];
      if (field !== undefined && literal !== undefined) {
        const constant = literalOf(literal as jsep.Literal);
        const value = this.value(field);
        return negate ? (r) => !equals(value(r), constant) : (r) => equals(value(r), constant);
      }
      const a = this.value(left);
      const b = this.value(right);
      return (r) => {
        const same = sameValue(a(r), b(r));
        return negate ? !same : same;
      };
    }
    const order = ORDERS[operator];
    if (order === undefined) this.fail(`operator "${operator}" is not supported`);
    const a = this.value(left);
    if (right.type === 'Literal') {
      const constant = literalOf(right as jsep.Literal);
      if (typeof constant !== 'number' && typeof constant !== 'string') this.fail(`${operator} compares numbers or strings, not ${String(constant)}`);
      return (r) => ordered(a(r), constant, order);
    }
    const b = this.value(right);
    return (r) => ordered(a(r), b(r), order);
  }

  private value(node: jsep.Expression): Value {
    if (node.type === 'Identifier') {
      const name = (node as jsep.Identifier).name;
      checkField(this.known, name, this.setting);
      return (r) => r[name];
    }
    if (node.type === 'Literal' || isNegativeNumber(node)) {
      const constant = literalOf(node);
      return () => constant;
    }
    return this.fail(`${describe(node)} is not a field or a literal`);
  }

  private regex(source: string, flags: string): RegExp {
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, flags);
    } catch (err) {
      return this.fail(`not a regular expression (${(err as Error).message})`);
    }
    // Run on every line: a pattern with nested repetition could take exponential time on one crafted line.
    if (!safeRegex(pattern)) this.fail(`the regular expression /${source}/ can take exponential time on some lines (nested repetition such as (a+)+)`);
    return pattern;
  }
}

/** jsep reads -1 as - applied to 1. */
function isNegativeNumber(node: jsep.Expression): boolean {
  if (node.type !== 'UnaryExpression') return false;
  const { operator, argument } = node as jsep.UnaryExpression;
  return operator === '-' && argument.type === 'Literal' && typeof (argument as jsep.Literal).value === 'number';
}

function literalOf(node: jsep.Expression): Scalar {
  if (node.type === 'UnaryExpression') return -(((node as jsep.UnaryExpression).argument as jsep.Literal).value as number);
  const value = (node as jsep.Literal).value;
  if (value instanceof RegExp) throw new Error('jsep regex literals are not enabled');
  return value;
}

function describe(node: jsep.Expression): string {
  switch (node.type) {
    case 'BinaryExpression':
    case 'UnaryExpression':
      return `operator "${String(node.operator)}" (not supported)`;
    case 'MemberExpression':
      return 'a field path (a.b)';
    case 'CallExpression':
      return 'a function call';
    case 'ArrayExpression':
      return 'a list';
    case 'Compound':
      return 'more than one expression';
    case 'ConditionalExpression':
      return 'a ?: expression';
    default:
      return `a ${node.type}`;
  }
}

/** Compiles `text` once; an unknown field, operator or unsafe regex is a TransformError naming `setting`. */
export function compileCondition(text: string, known: KnownFields, setting: string): Condition {
  const compiler = new Compiler(text, known, setting);
  let tree: jsep.Expression;
  try {
    tree = jsep(text);
  } catch (err) {
    return compiler.fail((err as Error).message);
  }
  return compiler.condition(tree);
}
