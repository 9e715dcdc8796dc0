import { ConflictError, NotFoundError } from '@app/common';
import {
  CERTIFICATE_ISSUED,
  CERTIFICATE_REVOKED,
  DELETED,
  LifecycleEvent,
  REGISTERED,
  RegisteredData,
  TOKEN_ISSUED,
  VPN_ADDRESS_ASSIGNED,
  VPN_ADDRESS_RELEASED,
} from './events';

/**
 * A container's life as the `container-{id}` stream tells it. Ingest's map/unmap events share the
 * stream; evolve ignores them (they only move the version).
 */
export interface LifecycleState {
  version: number;
  registered?: RegisteredData;
  tokenVersion: number;
  deleted: boolean;
  address?: string;
  certificate?: { serial: string; revoked: boolean };
}

export const initialLifecycle = (): LifecycleState => ({ version: -1, tokenVersion: 0, deleted: false });

export function evolveLifecycle(s: LifecycleState, e: { type: string; data: unknown; streamVersion: number }): LifecycleState {
  const next: LifecycleState = { ...s, version: e.streamVersion };
  // The stream also holds ingest's map/unmap events: they fall through the switch.
  const ev = { type: e.type, data: e.data } as LifecycleEvent;
  switch (ev.type) {
    case REGISTERED:
      next.registered = ev.data;
      break;
    case TOKEN_ISSUED:
      next.tokenVersion = Math.max(s.tokenVersion, ev.data.token_version);
      break;
    case DELETED:
      next.deleted = true;
      break;
    case VPN_ADDRESS_ASSIGNED:
      next.address = ev.data.address;
      break;
    case VPN_ADDRESS_RELEASED:
      next.address = undefined;
      break;
    case CERTIFICATE_ISSUED:
      next.certificate = { serial: ev.data.serial, revoked: false };
      break;
    case CERTIFICATE_REVOKED:
      if (s.certificate?.serial === ev.data.serial) next.certificate = { serial: ev.data.serial, revoked: true };
      break;
  }
  return next;
}

export interface TokenGrant {
  kid: string;
  expiresAt: string;
}

export type LifecycleCommand =
  | { type: 'register'; container: RegisteredData; token: TokenGrant }
  | { type: 'rotate-token'; token: TokenGrant }
  | { type: 'delete'; reason?: string; address?: string; serial?: string };

/** Decides the events of an onboarding command. Ids, node and times come from the caller. */
export function decideLifecycle(cmd: LifecycleCommand, s: LifecycleState): LifecycleEvent[] {
  if (cmd.type === 'register') {
    if (s.version !== -1) throw ConflictError.of('container_id', 'is already registered');
    const id = cmd.container.container_id;
    return [
      { type: REGISTERED, data: cmd.container },
      { type: TOKEN_ISSUED, data: { container_id: id, token_version: 1, kid: cmd.token.kid, expires_at: cmd.token.expiresAt } },
    ];
  }
  const c = s.registered;
  if (!c) throw new NotFoundError('container not found');
  if (s.deleted) throw ConflictError.of('container_id', 'was deleted');
  if (cmd.type === 'rotate-token') {
    return [
      {
        type: TOKEN_ISSUED,
        data: { container_id: c.container_id, token_version: s.tokenVersion + 1, kid: cmd.token.kid, expires_at: cmd.token.expiresAt },
      },
    ];
  }
  const ref = { container_id: c.container_id, org_id: c.org_id, project_id: c.project_id };
  const events: LifecycleEvent[] = [{ type: DELETED, data: cmd.reason ? { ...ref, reason: cmd.reason } : ref }];
  // The allocation tables are the truth for what was handed out; the stream may lag a crash behind.
  const address = cmd.address ?? s.address;
  if (address) events.push({ type: VPN_ADDRESS_RELEASED, data: { container_id: c.container_id, address } });
  const serial = cmd.serial ?? (s.certificate && !s.certificate.revoked ? s.certificate.serial : undefined);
  if (serial) events.push({ type: CERTIFICATE_REVOKED, data: { container_id: c.container_id, serial, reason: 'container-deleted' } });
  return events;
}
