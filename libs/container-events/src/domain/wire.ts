import { z } from 'zod';
import { serviceNameProblem, UUID_RE } from '@app/common';

/**
 * The wire format of POST /collab/event (docs/design.md, wire contracts). Strict: unknown fields are
 * refused. Stats are free text, bounded; names, ports and ids are allow-listed.
 */
export const STAT_MAX_CHARS = 256;
export const MAX_SERVICES = 32;

const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
// PostgreSQL's jsonb refuses U+0000, so a NUL would fail at the store instead of here.
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL');
const stat = z.union([text(STAT_MAX_CHARS), z.number(), z.boolean(), z.null()], {
  error: `must be a string of at most ${STAT_MAX_CHARS} characters, a number, a boolean or null`,
});
export const serviceName = z.string().superRefine((v, ctx) => {
  const problem = serviceNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export const port = z
  .number({ error: 'must be an integer from 1 to 65535' })
  .int('must be an integer from 1 to 65535')
  .min(1, 'must be an integer from 1 to 65535')
  .max(65535, 'must be an integer from 1 to 65535');

const system = z.strictObject({
  cpu: z.strictObject({ usage: stat, count: stat, threads_per_core: stat, model: stat }).partial().optional(),
  memory: z.strictObject({ free: stat, total: stat }).partial().optional(),
  disk: z.strictObject({ size: stat, usage: stat }).partial().optional(),
  network: z.strictObject({ ping_time: stat }).partial().optional(),
  graphic: z.strictObject({ cards: stat }).partial().optional(),
});

const serviceReadiness = z.strictObject({
  name: serviceName,
  healthy: z.boolean(),
  message: text(STAT_MAX_CHARS).optional(),
});

export const watchdogWire = z.strictObject({
  type: z.literal('user-container:watchdog'),
  system: system.optional(),
  services: z.array(serviceReadiness).max(MAX_SERVICES).optional(),
});

export const mapWire = z.strictObject({
  type: z.literal('user-container:map-http-service'),
  name: serviceName,
  port,
  /** Behind the gateway's sign-in (docs/sso.md); optional, so the seed's scripts stay valid. The terminal is always protected. */
  protected: z.boolean({ error: 'must be true or false' }).optional(),
});

export const unmapWire = z.strictObject({
  type: z.literal('user-container:unmap-http-service'),
  name: serviceName,
});

export const EVENT_TYPES = ['user-container:watchdog', 'user-container:map-http-service', 'user-container:unmap-http-service'] as const;

export const wireEvent = z.discriminatedUnion('type', [watchdogWire, mapWire, unmapWire], {
  error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${EVENT_TYPES.join(', ')}` : undefined),
});

export const collabEventBody = z.strictObject({
  event: wireEvent,
  project_id: uuid,
  event_id: uuid.optional(),
});

export type CollabEventBody = z.output<typeof collabEventBody>;
export type WireEvent = z.output<typeof wireEvent>;
