import { z } from 'zod';
import { UUID_RE } from '@app/common';

/** The audit filters, shared by the HTTP API and `ops audit` (flags of the same names). */
const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
const TYPE = /^[a-z][a-z0-9-]{0,40}:[a-z][a-z0-9-]{0,60}$/;
const typeList = z
  .string()
  .max(2000)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(z.string().regex(TYPE, 'each must be an event type like user-container:deleted')).min(1, 'must name at least one type').max(30),
  );
const isoTime = z
  .string()
  .max(40)
  .refine(
    (v) => /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(v) && Number.isFinite(Date.parse(v)),
    'must be an ISO 8601 date or time',
  )
  .transform((v) => new Date(v));
const cursor = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const decoded = Buffer.from(v, 'base64url').toString('utf8');
    if (!/^p:\d{1,19}$/.test(decoded)) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return decoded.slice(2);
  });
const limit = z.coerce
  .number({ error: 'must be an integer from 1 to 1000' })
  .int('must be an integer from 1 to 1000')
  .min(1, 'must be an integer from 1 to 1000')
  .max(1000, 'must be an integer from 1 to 1000');

const base = {
  container: uuid.optional(),
  project: uuid.optional(),
  org: uuid.optional(),
  type: typeList.optional(),
  /** `type:id` as in the events' metadata.actor (e.g. operator:alice), or just the id. */
  actor: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s]+$/, 'must not contain white space')
    .optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
};
const ordered = <T extends { from?: Date; to?: Date }>(v: T, ctx: z.RefinementCtx) => {
  if (v.from && v.to && v.to <= v.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
};

export const auditQuery = z.strictObject({ ...base, cursor: cursor.optional(), limit: limit.default(100) }).superRefine(ordered);
export const exportQuery = z.strictObject(base).superRefine(ordered);
export type AuditFilters = z.output<typeof exportQuery>;
export type AuditQuery = z.output<typeof auditQuery>;

export const encodeCursor = (position: string) => Buffer.from(`p:${position}`, 'utf8').toString('base64url');
export const containerIdParam = z.strictObject({ id: uuid });
