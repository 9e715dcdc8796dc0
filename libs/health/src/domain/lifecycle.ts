/**
 * Health's own event contract: `health-lapsed`, written by the sweeper. The container lifecycle
 * events health and routing read are onboarding's (@app/onboarding), the container's own events
 * container-events' (@app/container-events).
 */
const CANONICAL_ISO = /^\d{4}-(0\d|1[0-2])-([0-2]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
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

/** The server time an event stands for: received_at (set by ingest) or the store's recorded_at. */
export function serverTime(e: { metadata?: { received_at?: unknown }; recordedAt: Date | string }): string {
  const r = e.metadata?.received_at;
  // Already in the canonical form (what ingest writes): parsing and printing would give it back.
  if (typeof r === 'string' && r.length === 24 && CANONICAL_ISO.test(r)) return r;
  if (typeof r === 'string') {
    const t = Date.parse(r);
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return new Date(e.recordedAt).toISOString();
}
