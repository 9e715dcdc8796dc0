import { isUuid } from '@app/common';

/**
 * Constants for statements a projection sends as literal SQL (Projection.read, ctx.defer), which
 * ride in one round trip with others and so take no parameters.
 */

/**
 * Any text as a SQL string constant, dollar-quoted with a tag the text does not hold: no escape
 * processing, whatever standard_conforming_strings says (PostgreSQL text never holds NUL).
 */
export function sqlLiteral(v: string): string {
  let tag = '$q$';
  for (let i = 0; v.includes(tag); i++) tag = `$q${i}$`;
  return `${tag}${v}${tag}`;
}

/** Checked uuids as a uuid[] constant; anything else throws. */
export function sqlUuidArray(ids: readonly string[]): string {
  const bad = ids.find((id) => !isUuid(id));
  if (bad !== undefined) throw new Error(`not a uuid: ${JSON.stringify(bad).slice(0, 60)}`);
  return `'{${ids.join(',')}}'::uuid[]`;
}
