import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { ConcurrencyError, EventMetadata, EventStore } from '@app/event-store';
import { decideProjectBinding, evolveProject, initialProject, projectStream } from './domain/project';

const MAX_ATTEMPTS = 5;

/** Which org a project belongs to (its `project-{id}` stream), and binding a project on first use. */
@Injectable()
export class ProjectsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  /**
   * The project's org: its binding, or for a project whose containers were registered before
   * bindings existed, the org of those containers. Undefined: the project is unknown.
   */
  async orgOf(projectId: string): Promise<string | undefined> {
    const bound = (await this.store.readStream(projectStream(projectId))).reduce(evolveProject, initialProject()).orgId;
    if (bound) return bound;
    const { rows } = await this.pool.query(`SELECT org_id::text FROM onboarded_containers WHERE project_id = $1 LIMIT 1`, [projectId]);
    return rows[0]?.org_id;
  }

  /** Binds the project to the org if unbound; refuses (409 naming `project_id`) if it belongs to another. */
  async bind(projectId: string, orgId: string, metadata: EventMetadata): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const state = (await this.store.readStream(projectStream(projectId))).reduce(evolveProject, initialProject());
      if (state.orgId === undefined) {
        const legacy = await this.orgOf(projectId);
        if (legacy) decideProjectBinding({ project_id: projectId, org_id: orgId }, { version: -1, orgId: legacy });
      }
      const events = decideProjectBinding({ project_id: projectId, org_id: orgId }, state);
      if (!events.length) return;
      try {
        await this.store.append(
          projectStream(projectId),
          events.map((e) => ({ ...e, metadata })),
          'no_stream',
        );
        return;
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
    }
  }
}
