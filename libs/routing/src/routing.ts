import { isPort, isServiceName, serviceFqdn, eventDecoder } from '@app/common';
import {
  isProtectedService,
  SERVICE_MAPPED,
  SERVICE_UNMAPPED,
  WATCHDOG,
  type ServiceMappedData,
  type ServiceUnmappedData,
  type WatchdogData,
} from '@app/container-events';
import { HEALTH_LAPSED, serverTime, type HealthLapsedData } from '@app/health';
import {
  DELETED,
  REGISTERED,
  VPN_ADDRESS_ASSIGNED,
  VPN_ADDRESS_RELEASED,
  type DeletedData,
  type RegisteredData,
  type VpnAddressAssignedData,
  type VpnAddressReleasedData,
} from '@app/onboarding';

/** The routing projection's per-container state (table routing_containers). */
export interface RoutingState {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node: string | null;
  vpn_address: string | null;
  /** `protected` is absent in states written before protected services existed (read as false). */
  services: { name: string; port: number; protected?: boolean }[];
  deleted: boolean;
  withdrawn: boolean;
  withdrawn_at: string | null;
  returning_watchdogs: number;
  last_watchdog_at: string | null;
  updated_position: string;
}

/** One row of the `routes` table. */
export interface RouteRow {
  fqdn: string;
  container_id: string;
  org_id: string;
  project_id: string;
  service: string;
  port: number;
  is_primary: boolean;
  vpn_address: string | null;
  gateway_node: string | null;
  active: boolean;
  protected: boolean;
  updated_position: string;
  updated_at: string;
}

export interface RoutingEvent {
  type: string;
  data: unknown;
  metadata?: { received_at?: unknown };
  recordedAt: Date | string;
  globalPosition: string;
}

/** The events the routing read model takes, as a union (one decoder instead of a cast per case). */
export type RoutingInput =
  | { type: typeof WATCHDOG; data: WatchdogData }
  | { type: typeof SERVICE_MAPPED; data: ServiceMappedData }
  | { type: typeof SERVICE_UNMAPPED; data: ServiceUnmappedData }
  | { type: typeof REGISTERED; data: RegisteredData }
  | { type: typeof DELETED; data: DeletedData }
  | { type: typeof VPN_ADDRESS_ASSIGNED; data: VpnAddressAssignedData }
  | { type: typeof VPN_ADDRESS_RELEASED; data: VpnAddressReleasedData }
  | { type: typeof HEALTH_LAPSED; data: HealthLapsedData };
/** Every event type the routing projection folds (a time-travel read filters the log by them). */
export const ROUTING_EVENT_TYPES = [
  WATCHDOG,
  SERVICE_MAPPED,
  SERVICE_UNMAPPED,
  REGISTERED,
  DELETED,
  VPN_ADDRESS_ASSIGNED,
  VPN_ADDRESS_RELEASED,
  HEALTH_LAPSED,
] as const;
export const decodeRoutingEvent = eventDecoder<RoutingInput>(ROUTING_EVENT_TYPES);
const TYPES = new Set<string>(ROUTING_EVENT_TYPES);
export const isRoutingEvent = (type: string) => TYPES.has(type);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NODE = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export interface RoutingOptions {
  /** Watchdogs received after a withdrawal before the routes come back (hysteresis). */
  restoreWatchdogs: number;
}

/**
 * Folds one event into a container's routing state. Routes are withdrawn when the container goes
 * offline (not when merely stale) or is deleted; they return after `restoreWatchdogs` watchdogs
 * received after the withdrawal, so one late packet does not flap nginx. Returns the same object
 * when nothing changed.
 */
export function evolveRouting(s: RoutingState | undefined, e: RoutingEvent, o: RoutingOptions): RoutingState | undefined {
  const at = serverTime(e);
  const ev = decodeRoutingEvent(e);
  if (!ev) return s;
  const d: { container_id: string; org_id?: string; project_id?: string } = ev.data;
  const fresh = (): RoutingState => ({
    container_id: d.container_id,
    org_id: d.org_id!,
    project_id: d.project_id!,
    gateway_node: null,
    vpn_address: null,
    services: [],
    deleted: false,
    withdrawn: false,
    withdrawn_at: null,
    returning_watchdogs: 0,
    last_watchdog_at: null,
    updated_position: e.globalPosition,
  });
  const next = (patch: Partial<RoutingState>, base = s ?? fresh()): RoutingState => ({
    ...base,
    ...patch,
    updated_position: e.globalPosition,
  });
  switch (ev.type) {
    case WATCHDOG: {
      // Routing only cares about containers that publish something.
      if (!s || s.deleted) return s;
      const last = s.last_watchdog_at && s.last_watchdog_at > at ? s.last_watchdog_at : at;
      if (!s.withdrawn) return last === s.last_watchdog_at ? s : next({ last_watchdog_at: last });
      if (!s.withdrawn_at || at <= s.withdrawn_at) return next({ last_watchdog_at: last });
      const returning = s.returning_watchdogs + 1;
      return returning >= o.restoreWatchdogs
        ? next({ last_watchdog_at: last, withdrawn: false, withdrawn_at: null, returning_watchdogs: 0 })
        : next({ last_watchdog_at: last, returning_watchdogs: returning });
    }
    case SERVICE_MAPPED: {
      const m = ev.data;
      if (!isServiceName(m.name) || !isPort(m.port)) return s;
      const base = s ?? fresh();
      const i = base.services.findIndex((x) => x.name === m.name);
      const svc = { name: m.name, port: m.port, protected: isProtectedService(m.name, m.protected) };
      if (i >= 0 && base.services[i].port === m.port && !!base.services[i].protected === svc.protected) return s;
      const services = i >= 0 ? base.services.map((x, j) => (j === i ? svc : x)) : [...base.services, svc];
      return next({ services }, base);
    }
    case SERVICE_UNMAPPED: {
      const name = ev.data.name;
      if (!s || !s.services.some((x) => x.name === name)) return s;
      return next({ services: s.services.filter((x) => x.name !== name) });
    }
    case REGISTERED: {
      const r = ev.data;
      const node = r.gateway_node && NODE.test(r.gateway_node) ? r.gateway_node : null;
      return next({ org_id: r.org_id, project_id: r.project_id, gateway_node: node ?? s?.gateway_node ?? null });
    }
    case VPN_ADDRESS_ASSIGNED: {
      const v = ev.data;
      if (!IPV4.test(v.address)) return s;
      const node = v.gateway_node && NODE.test(v.gateway_node) ? v.gateway_node : null;
      return next({ vpn_address: v.address, gateway_node: node ?? s?.gateway_node ?? null });
    }
    case VPN_ADDRESS_RELEASED: {
      const v = ev.data;
      if (!s || s.vpn_address !== v.address) return s;
      return next({ vpn_address: null });
    }
    case DELETED:
      if (!s || s.deleted) return s;
      return next({ deleted: true });
    case HEALTH_LAPSED: {
      const l = ev.data;
      if (!s || s.deleted || l.status !== 'offline' || s.withdrawn) return s;
      if (s.last_watchdog_at && (!l.last_seen_at || s.last_watchdog_at > new Date(l.last_seen_at).toISOString())) return s;
      return next({ withdrawn: true, withdrawn_at: at, returning_watchdogs: 0 });
    }
  }
}

/** The routes a container's state publishes: one per service, the first mapped is the primary. */
export function routesOf(s: RoutingState, domain: string): Omit<RouteRow, 'updated_position' | 'updated_at'>[] {
  return s.services.map((svc, i) => ({
    fqdn: serviceFqdn({ containerId: s.container_id, orgId: s.org_id, domain, service: svc.name }),
    container_id: s.container_id,
    org_id: s.org_id,
    project_id: s.project_id,
    service: svc.name,
    port: svc.port,
    is_primary: i === 0,
    vpn_address: s.vpn_address,
    gateway_node: s.gateway_node,
    active: !s.deleted && !s.withdrawn,
    protected: isProtectedService(svc.name, svc.protected),
  }));
}
