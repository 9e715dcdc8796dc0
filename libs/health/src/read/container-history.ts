import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { NotFoundError, type Moment } from '@app/common';
import { containerStream, watchdogStream } from '@app/container-events';
import { PG_POOL } from '@app/database';
import { readUpTo, resolveMoment } from '@app/event-store';
import { evolveHealth, type HealthRow } from '../domain/health';
import { CONTAINER_ROUTES, type ContainerRoutes } from './container-routes';
import { inScope, type Scope } from './scope';

/**
 * One container as it stood at a moment of the log: its two streams folded up to that position
 * with the health projection's own evolve (lapses are events, so stale/offline come back as they
 * were), and its routes folded the same way by the routing lib.
 */
@Injectable()
export class ContainerHistoryService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CONTAINER_ROUTES) private readonly routes: ContainerRoutes,
  ) {}

  async at(scope: Scope, containerId: string, moment: Moment) {
    const used = await resolveMoment(this.pool, moment);
    const row = used ? await this.healthAt(containerId, used.position) : undefined;
    // Out of scope, unknown then, and absent look the same: a viewer learns nothing about other orgs.
    if (!used || !row || !inScope(scope, row)) {
      throw new NotFoundError(`no container ${containerId} at that moment`, [{ field: 'id', message: 'no such container then' }]);
    }
    const routes = await this.routes.at(containerId, used.position);
    const { updated_position: _position, ...health } = row;
    return { at: used, ...health, routes };
  }

  /** The container's health row at `position`, or undefined when it did not exist yet. */
  async healthAt(containerId: string, position: string): Promise<HealthRow | undefined> {
    let row: HealthRow | undefined;
    for await (const page of readUpTo(this.pool, position, { streams: [containerStream(containerId), watchdogStream(containerId)] })) {
      for (const e of page) row = evolveHealth(row, e);
    }
    return row;
  }
}
