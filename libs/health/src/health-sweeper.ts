import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { containerStream } from '@app/container-events';
import { EventStore } from '@app/event-store';
import { projectionLag } from '@app/projections';
import { decideLapses, LapseCandidate, looksLikeIngestOutage } from './domain/lapses';
import { HEALTH_LAPSED, HealthLapsedData } from './domain/lifecycle';

export interface SweepReport {
  outcome: 'swept' | 'skipped';
  reason?: string;
  stale: number;
  offline: number;
  watching_since: string | null;
}

/** The sweeper appends its lapses in one chunk per tick of this length (see HealthSweeper.appendPaced). */
const LAPSE_TICK_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stable id per (container, status, last seen): two sweeps racing append one lapse, not two. */
function lapseId(containerId: string, status: string, lastSeen: string): string {
  const h = createHash('sha256').update(`health-lapsed:${containerId}:${status}:${lastSeen}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Appends `user-container:health-lapsed` for containers that went quiet (docs/design.md, health model).
 * It never blames containers for a silence nobody was there to hear:
 * - no active health projector, or a read model behind by more than one interval: skip;
 * - silence counts from the later of the last watchdog, the health projector's lease take-over
 *   (a gateway restart) and the sweeper's own `watching_since`, which resets when the sweeper
 *   itself was not running or when the whole fleet went quiet at once (an ingest outage).
 */
@Injectable()
export class HealthSweeper {
  private readonly logger = new Logger('health-sweeper');

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async sweep(): Promise<SweepReport> {
    const h = this.config.health;
    const staleMs = h.watchdogIntervalMs * h.staleAfterIntervals;
    const skipped = (reason: string, since: string | null = null): SweepReport => ({
      outcome: 'skipped',
      reason,
      stale: 0,
      offline: 0,
      watching_since: since,
    });

    const {
      rows: [clock],
    } = await this.pool.query(
      `SELECT now() AS now, lease_acquired_at, (lease_expires_at IS NOT NULL AND lease_expires_at > now()) AS live
         FROM (SELECT 1) one LEFT JOIN projections ON name = 'health'`,
    );
    const now = new Date(clock.now).getTime();
    // Remember that we were here; if we were not for a while, start listening afresh.
    const gapMs = Math.max(2 * h.sweepEveryMs, h.watchdogIntervalMs);
    const {
      rows: [state],
    } = await this.pool.query(
      `INSERT INTO health_sweeper AS s (id, last_run_at, watching_since) VALUES (1, $1, $1)
       ON CONFLICT (id) DO UPDATE SET last_run_at = $1,
         watching_since = CASE WHEN s.last_run_at < $1::timestamptz - make_interval(secs => $2::double precision / 1000) THEN $1 ELSE s.watching_since END
       RETURNING watching_since`,
      [new Date(now), gapMs],
    );
    let watchingSince = new Date(state.watching_since).getTime();
    if (!clock.live) return skipped('no active health projector (gateway down?)', new Date(watchingSince).toISOString());
    const lag = await projectionLag(this.pool, 'health', false);
    if (lag && lag.seconds_behind * 1000 > h.watchdogIntervalMs) return skipped(`health read model is ${lag.seconds_behind} s behind`);
    if (clock.lease_acquired_at) watchingSince = Math.max(watchingSince, new Date(clock.lease_acquired_at).getTime());

    const { rows } = await this.pool.query(
      `SELECT container_id, org_id, project_id, status, last_watchdog_at FROM container_health
        WHERE NOT deleted AND last_watchdog_at IS NOT NULL AND status IN ('healthy', 'degraded', 'stale')
          AND last_watchdog_at < $1`,
      [new Date(now - staleMs)],
    );
    const candidates: LapseCandidate[] = rows.map((r) => ({ ...r, last_watchdog_at: new Date(r.last_watchdog_at).toISOString() }));
    const aliveSilent = candidates.filter((c) => c.status === 'healthy' || c.status === 'degraded');
    if (aliveSilent.length >= h.outageMinContainers) {
      const {
        rows: [alive],
      } = await this.pool.query(`SELECT count(*)::int AS n FROM container_health WHERE NOT deleted AND status IN ('healthy', 'degraded')`);
      if (looksLikeIngestOutage(aliveSilent, now, staleMs, h.outageMinContainers) && alive.n === aliveSilent.length) {
        await this.pool.query(`UPDATE health_sweeper SET watching_since = $1 WHERE id = 1`, [new Date(now)]);
        this.logger.warn(`all ${alive.n} live containers are silent: treating it as an ingest outage, not lapsing anyone`);
        return skipped('fleet-wide silence: ingest outage suspected', new Date(now).toISOString());
      }
    }

    // What HEALTH_LAPSES_PER_S delivers in half a sweep period, so that sweeps (WORKER_CONCURRENCY
    // runs jobs side by side) do not overlap; the next sweep finds the rest again.
    const max = Math.max(1, Math.floor((h.lapsesPerS * h.sweepEveryMs) / 2000));
    const lapses = decideLapses(candidates, now, watchingSince, { staleMs, offlineMs: h.offlineGraceMs }).slice(0, max);
    const receivedAt = new Date(now).toISOString();
    await this.appendPaced(
      lapses.map((l) => () => {
        const data: HealthLapsedData = {
          container_id: l.container_id,
          org_id: l.org_id,
          project_id: l.project_id,
          status: l.status,
          last_seen_at: l.last_seen_at,
        };
        return this.store.append(containerStream(l.container_id), [
          {
            id: lapseId(l.container_id, l.status, l.last_seen_at),
            type: HEALTH_LAPSED,
            data,
            metadata: {
              actor: { type: 'system', id: 'health-sweeper' },
              received_at: receivedAt,
              correlation_id: `health-sweep:${receivedAt}`,
            },
          },
        ]);
      }),
    );
    const stale = lapses.filter((l) => l.status === 'stale').length;
    if (lapses.length) this.logger.log(`lapsed ${stale} stale, ${lapses.length - stale} offline`);
    return { outcome: 'swept', stale, offline: lapses.length - stale, watching_since: new Date(watchingSince).toISOString() };
  }

  /**
   * Runs the appends at most HEALTH_LAPSES_PER_S: one chunk per LAPSE_TICK_MS, each committed
   * before the next starts. When thousands of containers go quiet together (a node's fleet, the
   * end of a load), their lapses all at once were a burst the size of the fleet on top of the live
   * load, and every projector (health, routing, the sealer) stalled behind it for about a second:
   * the lag of the containers still talking went from p99 ~0.15 s to ~1 s (bench, issue 18). A
   * lapse is a verdict on tens of seconds of silence; a second more to deliver it costs nothing.
   */
  private async appendPaced(appends: (() => Promise<unknown>)[]): Promise<void> {
    const perTick = Math.max(1, Math.round((this.config.health.lapsesPerS * LAPSE_TICK_MS) / 1000));
    for (let i = 0; i < appends.length; i += perTick) {
      const tick = performance.now();
      await Promise.all(appends.slice(i, i + perTick).map((append) => append()));
      if (i + perTick < appends.length) await sleep(LAPSE_TICK_MS - (performance.now() - tick));
    }
  }
}
