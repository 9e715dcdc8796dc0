import { eventDecoder } from '@app/common';
import {
  parseLoad,
  parsePercent,
  parsePing,
  parseStats,
  SERVICE_MAPPED,
  WATCHDOG,
  type ParsedStats,
  type RawStat,
  type RawSystem,
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

export function fresh(d: { container_id: string; org_id: string; project_id: string }, at: string, position: string): HealthRow {
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
      const services = servicesOf(d);
      const status = watchdogStatus(d);
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

/** The services a watchdog reports, as the row keeps them. */
export function servicesOf(d: WatchdogData): ServiceReadiness[] {
  return (d.services ?? []).map((s) => ({
    name: s.name,
    healthy: s.healthy,
    ...(s.message !== undefined ? { message: s.message } : {}),
  }));
}

/** The status a watchdog reports: degraded when any of its services is unhealthy. */
export function watchdogStatus(d: WatchdogData): HealthStatus {
  const services = d.services ?? [];
  for (const s of services) if (!s.healthy) return 'degraded';
  return 'healthy';
}

/**
 * evolveHealth's WATCHDOG case for a batch fold (HealthProjection): `row` is changed in place (the
 * caller passes a copy of its own, or undefined for a container without one) and neither the stats
 * nor the services are built: when it returns `took`, the row takes this watchdog's (the caller
 * sets them once, from the last watchdog the row took: statsAndServices). Same rows as evolveHealth.
 */
export function foldWatchdog(
  row: HealthRow | undefined,
  d: WatchdogData,
  at: string,
  position: string,
): { row: HealthRow | undefined; took: boolean; changed: boolean } {
  const base = row ?? fresh(d, at, position);
  if (base.deleted) return { row, took: false, changed: false };
  base.watchdogs += 1;
  let took = false;
  // A packet older than the newest one seen (a late retry) counts, but changes nothing else.
  if (!(base.last_watchdog_at && at < base.last_watchdog_at)) {
    took = true;
    base.last_watchdog_at = at;
    const status = watchdogStatus(d);
    if (base.status !== status) {
      base.status = status;
      base.status_since = at;
    }
  }
  base.updated_at = at;
  base.updated_position = position;
  return { row: base, took, changed: true };
}

/** What a row that took watchdog `d` keeps of it (foldWatchdog leaves these to the caller). */
export function statsAndServices(d: WatchdogData): { stats: ParsedStats; services: ServiceReadiness[] } {
  return { stats: parseStats(d.system), services: servicesOf(d) };
}

const num = (v: RawStat | undefined): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*$/.exec(v);
  return m ? Number(m[1]) : null;
};

const FIRST_TOKEN = /^[\s,]*([^\s,]+)/;
/** parseLoad(v)[0] without splitting the rest: the first of the tokens parseLoad splits v into. */
function firstLoad(v: RawStat | undefined): number | null {
  if (typeof v !== 'string') return parseLoad(v)[0];
  const m = FIRST_TOKEN.exec(v);
  return m ? num(m[1]) : null;
}

export interface Sample {
  load1: number | null;
  memUsed: number | null;
  diskUsed: number | null;
  pingMs: number | null;
}

/**
 * The numbers of parseStats(system) that the stats history keeps, without the rest of it: the same
 * parsers (parseLoad, parsePercent, parsePing) and parseStats' memory ratio.
 */
export function sampleOfSystem(system: RawSystem | undefined): Sample {
  const s = system ?? {};
  const freeMb = num(s.memory?.free);
  const totalMb = num(s.memory?.total);
  return {
    load1: firstLoad(s.cpu?.usage),
    memUsed:
      freeMb !== null && totalMb !== null && totalMb > 0 && freeMb <= totalMb ? Math.round((1 - freeMb / totalMb) * 10_000) / 10_000 : null,
    diskUsed: parsePercent(s.disk?.usage),
    pingMs: parsePing(s.network?.ping_time),
  };
}
