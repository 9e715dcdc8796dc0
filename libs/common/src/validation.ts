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
