import { eventDecoder } from '@app/common';
import {
  parseStats,
  SERVICE_MAPPED,
  WATCHDOG,
  type ParsedStats,
  type ServiceMappedData,
  type ServiceReadiness,
  type WatchdogData,
} from '@app/container-events';
import {
  DELETED,
  REGISTERED,
  VPN_ADDRESS_ASSIGNED,
  type DeletedData,
  type RegisteredData,
  type VpnAddressAssignedData,
} from '@app/onboarding';
import { HEALTH_LAPSED, serverTime, type HealthLapsedData } from './lifecycle';

export const STATUSES = ['starting', 'healthy', 'degraded', 'stale', 'offline'] as const;
export type HealthStatus = (typeof STATUSES)[number];

/** One container's row in the health read model (times are ISO strings of server time). */
export interface HealthRow {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node: string | null;
  display_name: string | null;
  status: HealthStatus;
  deleted: boolean;
  last_watchdog_at: string | null;
  stats: ParsedStats | null;
  services: ServiceReadiness[];
  watchdogs: number;
  status_since: string;
  created_at: string;
  updated_at: string;
  updated_position: string;
}

export interface HealthEvent {
  type: string;
  data: unknown;
  metadata?: { received_at?: unknown };
  recordedAt: Date | string;
  globalPosition: string;
}

/** The events the health read model takes, as a union (one decoder instead of a cast per case). */
export type HealthInput =
  | { type: typeof WATCHDOG; data: WatchdogData }
  | { type: typeof SERVICE_MAPPED; data: ServiceMappedData }
  | { type: typeof REGISTERED; data: RegisteredData }
  | { type: typeof DELETED; data: DeletedData }
  | { type: typeof VPN_ADDRESS_ASSIGNED; data: VpnAddressAssignedData }
  | { type: typeof HEALTH_LAPSED; data: HealthLapsedData };
const HEALTH_TYPES = [WATCHDOG, SERVICE_MAPPED, REGISTERED, DELETED, VPN_ADDRESS_ASSIGNED, HEALTH_LAPSED] as const;
export const decodeHealthEvent = eventDecoder<HealthInput>(HEALTH_TYPES);
const TYPES = new Set<string>(HEALTH_TYPES);
export const isHealthEvent = (type: string) => TYPES.has(type);

function fresh(d: { container_id: string; org_id: string; project_id: string }, at: string, position: string): HealthRow {
  return {
    container_id: d.container_id,
    org_id: d.org_id,
    project_id: d.project_id,
    gateway_node: null,
    display_name: null,
    status: 'starting',
    deleted: false,
    last_watchdog_at: null,
    stats: null,
    services: [],
    watchdogs: 0,
    status_since: at,
    created_at: at,
    updated_at: at,
    updated_position: position,
  };
}

function withStatus(row: HealthRow, status: HealthStatus, at: string): HealthRow {
  return row.status === status ? row : { ...row, status, status_since: at };
}

/**
 * Folds one event into a container's health. Pure: time comes from the event (server time), so a
 * rebuild gives the same rows as the live projection. Returns the same object when nothing changed.
 */
export function evolveHealth(row: HealthRow | undefined, e: HealthEvent): HealthRow | undefined {
  const at = serverTime(e);
  const touch = (r: HealthRow): HealthRow => ({ ...r, updated_at: at, updated_position: e.globalPosition });
  const ev = decodeHealthEvent(e);
  if (!ev) return row;
  switch (ev.type) {
    case WATCHDOG: {
      const d = ev.data;
      const base = row ?? fresh(d, at, e.globalPosition);
      if (base.deleted) return row;
      // A packet older than the newest one seen (a late retry) counts, but changes nothing else.
      if (base.last_watchdog_at && at < base.last_watchdog_at) return touch({ ...base, watchdogs: base.watchdogs + 1 });
      const services = (d.services ?? []).map((s) => ({
        name: s.name,
        healthy: s.healthy,
        ...(s.message !== undefined ? { message: s.message } : {}),
      }));
      const status: HealthStatus = services.some((s) => !s.healthy) ? 'degraded' : 'healthy';
      return touch(
        withStatus({ ...base, last_watchdog_at: at, stats: parseStats(d.system), services, watchdogs: base.watchdogs + 1 }, status, at),
      );
    }
    case SERVICE_MAPPED:
      return row ?? fresh(ev.data, at, e.globalPosition);
    case REGISTERED: {
      const d = ev.data;
      const base = row ?? fresh(d, at, e.globalPosition);
      return touch({
        ...base,
        org_id: d.org_id,
        project_id: d.project_id,
        gateway_node: d.gateway_node ?? base.gateway_node,
        display_name: d.display_name ?? base.display_name,
      });
    }
    case VPN_ADDRESS_ASSIGNED: {
      const d = ev.data;
      if (!row || !d.gateway_node || d.gateway_node === row.gateway_node) return row;
      return touch({ ...row, gateway_node: d.gateway_node });
    }
    case DELETED:
      if (!row || row.deleted) return row;
      return touch(withStatus({ ...row, deleted: true }, 'offline', at));
    case HEALTH_LAPSED: {
      const d = ev.data;
      if (!row || row.deleted) return row;
      // A watchdog arrived after the sweeper looked: the lapse is out of date.
      if (row.last_watchdog_at && (!d.last_seen_at || row.last_watchdog_at > new Date(d.last_seen_at).toISOString())) return row;
      if (row.status === d.status || (row.status === 'offline' && d.status === 'stale')) return row;
      return touch(withStatus(row, d.status, at));
    }
  }
}

/** A watchdog's numbers for the stats history (null where the stat did not parse). */
export function sampleOf(e: HealthEvent): { load1: number | null; memUsed: number | null; diskUsed: number | null; pingMs: number | null } {
  const s = parseStats((e.data as WatchdogData).system);
  return { load1: s.cpu.load1, memUsed: s.memory.usedRatio, diskUsed: s.disk.usedRatio, pingMs: s.network.pingMs };
}

export function bucketOf(atIso: string, bucketS: number): string {
  const ms = Date.parse(atIso);
  return new Date(ms - (ms % (bucketS * 1000))).toISOString();
}
