import type { LapseStatus } from './lifecycle';
import type { HealthStatus } from './health';

export interface LapseSettings {
  /** Silence after which a container is stale: two missed watchdog intervals by default. */
  staleMs: number;
  /** Silence after which it is offline (its routes are withdrawn). */
  offlineMs: number;
}

export interface LapseCandidate {
  container_id: string;
  org_id: string;
  project_id: string;
  status: HealthStatus;
  last_watchdog_at: string;
}

export interface Lapse {
  container_id: string;
  org_id: string;
  project_id: string;
  status: LapseStatus;
  last_seen_at: string;
}

/**
 * Which containers lapse now. Silence is measured from the later of the last watchdog and
 * `watchingSince` (when the gateway and sweeper were last known to be up and listening): a
 * container cannot be blamed for silence while nobody was listening. Pure; `now` comes in.
 */
export function decideLapses(candidates: LapseCandidate[], now: number, watchingSince: number, s: LapseSettings): Lapse[] {
  const out: Lapse[] = [];
  for (const c of candidates) {
    const silentFor = now - Math.max(Date.parse(c.last_watchdog_at), watchingSince);
    let status: LapseStatus | null = null;
    if (silentFor >= s.offlineMs && c.status !== 'offline') status = 'offline';
    else if (silentFor >= s.staleMs && (c.status === 'healthy' || c.status === 'degraded')) status = 'stale';
    if (status)
      out.push({ container_id: c.container_id, org_id: c.org_id, project_id: c.project_id, status, last_seen_at: c.last_watchdog_at });
  }
  return out;
}

/**
 * True when the whole fleet went quiet at once: with at least `minContainers` containers believed
 * alive and not one watchdog within the stale window, the likelier story is that ingest (the
 * gateway, its network) is down, not every container.
 */
export function looksLikeIngestOutage(alive: LapseCandidate[], now: number, staleMs: number, minContainers: number): boolean {
  if (alive.length < minContainers) return false;
  return alive.every((c) => now - Date.parse(c.last_watchdog_at) >= staleMs);
}
