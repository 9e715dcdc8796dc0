import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { containerStream, watchdogStream } from '@app/container-events';
import { PG_POOL } from '@app/database';
import { readUpTo, resolveMoment } from '@app/event-store';
import { NotFoundError, type Moment } from '@app/common';
import { encodeRoutesCursor, type RoutesDiffQuery, type RoutesQuery } from './routes.query';
import { inScope, type Scope } from '@app/health';
import { diffRoutes, foldRouting, routesAt, type RouteAt, type RoutesDiff } from '../history';
import { ROUTING_EVENT_TYPES, type RoutingState } from '../routing';

export interface MomentUsed {
  /** The global position the answer was folded to (inclusive). */
  position: string;
  /** When the event at that position was recorded (null when no event sits exactly there). */
  recorded_at: string | null;
}

/**
 * Routes as they stood at a moment of the log: folded from the log up to that position with the
 * routing projection's own evolve, so the answer is what the read model held there (not a guess
 * from the current rows). A whole-fleet answer reads every routing event up to the position; one
 * container's reads only its two streams.
 */
@Injectable()
export class RoutesHistoryService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async moment(at: Moment, field = 'at'): Promise<MomentUsed> {
    const used = await resolveMoment(this.pool, at);
    if (!used) throw new NotFoundError('the log held no event at that moment', [{ field, message: 'is before the first event' }]);
    return used;
  }

  /** Every route at `position` (all orgs: callers apply their scope). */
  async routesAt(position: string, containerId?: string): Promise<RouteAt[]> {
    const states = new Map<string, RoutingState>();
    const filter = containerId
      ? { streams: [containerStream(containerId), watchdogStream(containerId)] }
      : { types: ROUTING_EVENT_TYPES as readonly string[] };
    const options = { restoreWatchdogs: this.config.health.routesRestoreWatchdogs };
    for await (const page of readUpTo(this.pool, position, filter)) foldRouting(states, page, options);
    return routesAt(states, this.config.platformDomain);
  }

  /** GET /routes?at=: the same filters, scope and pages as the live list, over the folded routes. */
  async list(scope: Scope, q: RoutesQuery & { at: Moment }) {
    const at = await this.moment(q.at);
    const rows = (await this.routesAt(at.position, q.container)).filter(
      (r) =>
        inScope(scope, r) &&
        (!q.project || r.project_id === q.project) &&
        (!q.container || r.container_id === q.container) &&
        (q.active === undefined || r.active === q.active) &&
        (!q.cursor || r.fqdn > q.cursor),
    );
    const items = rows.slice(0, q.limit);
    return { at, items, next_cursor: rows.length > q.limit ? encodeRoutesCursor(items[items.length - 1]!.fqdn) : null };
  }

  /** GET /routes/diff: added, removed and changed routes between two moments, within the scope. */
  async diff(scope: Scope, q: RoutesDiffQuery): Promise<{ from: MomentUsed; to: MomentUsed } & RoutesDiff> {
    const [from, to] = [await this.moment(q.from, 'from'), await this.moment(q.to, 'to')];
    const keep = (r: RouteAt) =>
      inScope(scope, r) && (!q.project || r.project_id === q.project) && (!q.container || r.container_id === q.container);
    const [before, after] = [
      (await this.routesAt(from.position, q.container)).filter(keep),
      (await this.routesAt(to.position, q.container)).filter(keep),
    ];
    return { from, to, ...diffRoutes(before, after) };
  }
}
