import { z } from 'zod';
import { momentSchema, UUID_RE } from '@app/common';

const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
const limitMessage = 'must be an integer from 1 to 1000';
const cursor = z
  .string()
  .max(400)
  .transform((v, ctx) => {
    const fqdn = Buffer.from(v, 'base64url').toString('utf8');
    if (!/^[a-z0-9.-]{1,253}$/.test(fqdn)) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return fqdn;
  });

/** GET /routes: narrowing filters (the token's scope always applies on top), pages by FQDN. */
export const routesQuery = z.strictObject({
  org: uuid.optional(),
  project: uuid.optional(),
  container: uuid.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: z.coerce.number({ error: limitMessage }).int(limitMessage).min(1, limitMessage).max(1000, limitMessage).default(200),
  cursor: cursor.optional(),
  /** Time travel: the routes as they stood at this position or time, folded from the log. */
  at: momentSchema.optional(),
});
export type RoutesQuery = z.output<typeof routesQuery>;

export const encodeRoutesCursor = (fqdn: string) => Buffer.from(fqdn, 'utf8').toString('base64url');

/** GET /routes/diff: what changed between two moments, narrowed like GET /routes. */
export const routesDiffQuery = z.strictObject({
  from: momentSchema,
  to: momentSchema,
  org: uuid.optional(),
  project: uuid.optional(),
  container: uuid.optional(),
});
export type RoutesDiffQuery = z.output<typeof routesDiffQuery>;
