import type { FastifyRequest } from 'fastify';
import type { Principal } from '@app/auth';
import { isUuid, ValidationError } from '@app/common';
import type { EventMetadata } from '@app/event-store';
import { NODE_ID_RE } from './domain/vpn-files';

const CORRELATION = /^[A-Za-z0-9._:-]{1,100}$/;

/** The audit trail of an event: who asked, from where, when (server time). */
export function metadataOf(req: FastifyRequest, principal: Principal): EventMetadata {
  const c = req.headers['x-correlation-id'];
  return {
    correlation_id: typeof c === 'string' && CORRELATION.test(c) ? c : String(req.id),
    request_id: String(req.id),
    actor: { type: principal.role, id: principal.subject },
    source_address: req.ip,
    received_at: new Date().toISOString(),
  };
}

export function containerIdParam(v: string): string {
  if (!isUuid(v)) throw ValidationError.of('container_id', 'must be a lower-case UUID');
  return v;
}

export function nodeIdParam(v: string): string {
  if (!NODE_ID_RE.test(v)) throw ValidationError.of('node_id', 'must match ^[a-z0-9][a-z0-9-]{0,62}$');
  return v;
}
