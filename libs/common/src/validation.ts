import { z } from 'zod';
import { ValidationError } from './errors';

/** `['event', 'port']` -> `event.port`; `[3, 'event']` -> `[3].event`. */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || 'body';
}

/** Parses with a zod schema; failures become one ValidationError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    // An unknown key is reported at the parent; name the key itself.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: fieldPath([...issue.path, k], prefix), message: 'unknown field' }));
    }
    return [{ field: fieldPath(issue.path, prefix), message: issue.message }];
  });
  return (() => {
    throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
  })();
}

/** A moment of the log for time travel: a global position, or a time (the newest event recorded by then). */
export type Moment = { position: string } | { time: Date };

/** `?at=`: a global position (digits) or an ISO 8601 time. */
export const momentSchema = z
  .string()
  .max(40)
  .transform((v, ctx): Moment => {
    if (/^[1-9]\d{0,18}$/.test(v)) return { position: v };
    if (/^\d{4}-\d\d-\d\dT/.test(v) && Number.isFinite(Date.parse(v))) return { time: new Date(v) };
    ctx.addIssue({ code: 'custom', message: 'must be a log position (a positive integer) or an ISO 8601 time' });
    return z.NEVER;
  });
