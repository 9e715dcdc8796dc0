import type { FastifyInstance } from 'fastify';
import { AppError, ValidationError } from '@app/common';
import { findUnsafeText } from './unsafe-text';

/** The body is not JSON at all (400 `invalid_json`, field `body`). */
export class InvalidJsonError extends AppError {
  readonly code = 'invalid_json';
  constructor(why: string) {
    super(`Body is not valid JSON: ${why}`, [{ field: 'body', message: `is not valid JSON: ${why}` }]);
  }
}

/** Only bodies that mention one of these (or escape a character) can hold a forbidden key. */
const SUSPECT = /__proto__|constructor|\\u/;

/**
 * Only bodies with a \u escape can parse into text PostgreSQL refuses (findUnsafeText): a raw NUL
 * is not valid JSON, and text decoded from UTF-8 holds no unpaired surrogate (invalid bytes
 * become U+FFFD). Raw surrogates are looked for all the same, so the rule does not rest on how
 * the body was decoded.
 */
// eslint-disable-next-line no-control-regex -- NUL is one of what it looks for
const MAY_HOLD_UNSAFE_TEXT = /\\u|[\u0000\ud800-\udfff]/;

/** Bodies parseJsonBody has looked through for unsafe text (the edge guard skips them). */
const checkedForUnsafeText = new WeakSet<object>();

/** True when parseJsonBody parsed this body and found no unsafe text in it. */
export function isCheckedJsonBody(body: object): boolean {
  return checkedForUnsafeText.has(body);
}

const segment = (path: string, key: string | number) =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : /^[A-Za-z_$][\w$-]*$/.test(key)
      ? path
        ? `${path}.${key}`
        : key
      : `${path}[${JSON.stringify(key)}]`;

/**
 * The path of the first key that would reach an object's prototype if the value were merged
 * into another object: a `__proto__` key, or a `constructor` object holding `prototype` (what
 * secure-json-parse refuses). Iterative, so 30,000 nested arrays cost no stack. Null when none.
 */
export function findPrototypeKey(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], segment(path, i)]);
      continue;
    }
    const keys = Object.keys(v);
    for (const k of keys) {
      if (k === '__proto__') return segment(path, k);
      const child = (v as Record<string, unknown>)[k];
      if (k === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'))
        return segment(segment(path, k), 'prototype');
    }
    for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]], segment(path, keys[i])]);
  }
  return null;
}

/**
 * Parses a JSON body. Malformed text is 400 `invalid_json` (field `body`, with the parser's reason);
 * a prototype key is refused as what it is, naming its field (`event.__proto__`), not as bad JSON.
 * JSON.parse itself never touches a prototype: `__proto__` comes back as an own property.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new InvalidJsonError('the body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidJsonError((err as Error).message);
  }
  const forbidden = SUSPECT.test(text) ? findPrototypeKey(value) : null;
  if (forbidden) {
    const key = forbidden.endsWith('prototype') ? 'a "constructor.prototype" key' : 'a "__proto__" key';
    throw ValidationError.of(forbidden, `${key} is refused: it could change object prototypes (prototype pollution)`);
  }
  if (value !== null && typeof value === 'object') {
    // The body's walk for unsafe text, done here only when the text can hold any (issue 18: the
    // walk of every body was ~9% of the ingest path's allocations).
    const problem = MAY_HOLD_UNSAFE_TEXT.test(text) ? findUnsafeText(value) : undefined;
    if (problem) throw ValidationError.of(problem.field, problem.message);
    checkedForUnsafeText.add(value);
  }
  return value;
}

/** Replaces Fastify's JSON parser with parseJsonBody (the same body limit applies). */
export function registerJsonParser(instance: FastifyInstance): void {
  instance.removeContentTypeParser('application/json');
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
