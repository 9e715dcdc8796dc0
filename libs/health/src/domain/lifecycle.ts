/**
 * Container lifecycle event types from docs/events.md that the read models consume. Onboarding
 * and VPN write most of them; the health sweeper writes `health-lapsed`. The strings are the
 * persisted contract.
 */
export const REGISTERED = 'user-container:registered';
export const DELETED = 'user-container:deleted';
export const VPN_ASSIGNED = 'user-container:vpn-address-assigned';
export const VPN_RELEASED = 'user-container:vpn-address-released';
export const HEALTH_LAPSED = 'user-container:health-lapsed';

export type LapseStatus = 'stale' | 'offline';

export interface HealthLapsedData {
  container_id: string;
  org_id: string;
  project_id: string;
  status: LapseStatus;
  /** Server time of the last watchdog the sweeper saw (null: never had one). */
  last_seen_at: string | null;
}

export interface RegisteredData {
  container_id: string;
  org_id: string;
  project_id: string;
  image_id?: string;
  display_name?: string;
  gateway_node?: string | null;
}

export interface VpnAssignedData {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node?: string | null;
  address: string;
}

/** The server time an event stands for: received_at (set by ingest) or the store's recorded_at. */
export function serverTime(e: { metadata?: { received_at?: unknown }; recordedAt: Date | string }): string {
  const r = e.metadata?.received_at;
  if (typeof r === 'string') {
    const t = Date.parse(r);
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return new Date(e.recordedAt).toISOString();
}
