import { z } from 'zod';
import { momentSchema, UUID_RE } from '@app/common';
import { STATUSES } from '../domain/health';

const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
const statusList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.enum(STATUSES, { error: `each must be one of ${STATUSES.join(', ')}` }))
      .min(1, 'must name at least one status')
      .max(STATUSES.length),
  );
const cursor = z
  .string()
  .max(200)
  .transform((v, ctx) => {
    const id = Buffer.from(v, 'base64url').toString('utf8');
    if (!UUID_RE.test(id)) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return id;
  });
const isoTime = z
  .string()
  .max(40)
  .refine((v) => Number.isFinite(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v), 'must be an ISO 8601 time')
  .transform((v) => new Date(v));

export const listQuery = z.strictObject({
  status: statusList.optional(),
  project: uuid.optional(),
  org: uuid.optional(),
  include_deleted: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: z.coerce
    .number({ error: 'must be an integer from 1 to 500' })
    .int('must be an integer from 1 to 500')
    .min(1, 'must be an integer from 1 to 500')
    .max(500, 'must be an integer from 1 to 500')
    .default(50),
  cursor: cursor.optional(),
});
export type ListQuery = z.output<typeof listQuery>;

export const summaryQuery = z.strictObject({ project: uuid.optional(), org: uuid.optional() });
export const streamQuery = z.strictObject({ project: uuid.optional(), org: uuid.optional(), status: statusList.optional() });
export const statsQuery = z.strictObject({ from: isoTime.optional(), to: isoTime.optional() });
export const containerIdParam = z.strictObject({ id: uuid });
export const containerQuery = z.strictObject({ at: momentSchema.optional() });

export const encodeCursor = (containerId: string) => Buffer.from(containerId, 'utf8').toString('base64url');
