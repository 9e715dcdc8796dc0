import { DELETED, REGISTERED, type DeletedData, type RegisteredData } from '@app/onboarding';
import { isUuid, eventDecoder } from '@app/common';
import type { RecordedEvent } from '@app/event-store';
import { ProjectionHandler, type Projection, type ProjectionContext } from '@app/projections';
import { ACCESS_GRANTED, ACCESS_REVOKED, USER_REGISTERED, type AccessEvent, type UserRegisteredData } from './domain/events';

/** The events the access read model takes, as a union. */
type AccessInput =
  | { type: typeof USER_REGISTERED; data: UserRegisteredData }
  | AccessEvent
  | { type: typeof REGISTERED; data: RegisteredData }
  | { type: typeof DELETED; data: DeletedData };
const TYPES = [USER_REGISTERED, ACCESS_GRANTED, ACCESS_REVOKED, REGISTERED, DELETED] as const;
const decode = eventDecoder<AccessInput>(TYPES);

/**
 * The access read model: users, project members, and each container's project, so that "may
 * user U open container C" is two primary-key lookups (access_containers by container, then
 * access_members by (project, user)), whatever the number of users, projects or grants.
 */
@ProjectionHandler()
export class AccessProjection implements Projection {
  readonly name = 'access';
  readonly tables = ['access_users', 'access_members', 'access_containers'] as const;
  readonly eventTypes: ReadonlySet<string> = new Set(TYPES);

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<void> {
    const users = ctx.table('access_users');
    const members = ctx.table('access_members');
    const containers = ctx.table('access_containers');
    for (const e of events) {
      const ev = decode(e);
      if (!ev) continue;
      const pos = e.globalPosition;
      switch (ev.type) {
        case USER_REGISTERED: {
          const d = ev.data;
          if (!isUuid(d.user_id)) continue;
          await ctx.client.query(
            `INSERT INTO ${users} (user_id, email, name, updated_position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_position = EXCLUDED.updated_position`,
            [d.user_id, d.email, d.name, pos],
          );
          break;
        }
        case ACCESS_GRANTED:
        case ACCESS_REVOKED: {
          const d = ev.data;
          if (!isUuid(d.project_id) || !isUuid(d.user_id)) continue;
          if (ev.type === ACCESS_GRANTED) {
            await ctx.client.query(
              `INSERT INTO ${members} (project_id, user_id, granted_position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
              [d.project_id, d.user_id, pos],
            );
          } else {
            await ctx.client.query(`DELETE FROM ${members} WHERE project_id = $1 AND user_id = $2`, [d.project_id, d.user_id]);
          }
          break;
        }
        case REGISTERED: {
          const d = ev.data;
          if (!isUuid(d.container_id) || !isUuid(d.org_id) || !isUuid(d.project_id)) continue;
          await ctx.client.query(
            `INSERT INTO ${containers} (container_id, org_id, project_id, deleted, updated_position) VALUES ($1, $2, $3, false, $4)
             ON CONFLICT (container_id) DO UPDATE SET org_id = EXCLUDED.org_id, project_id = EXCLUDED.project_id, updated_position = EXCLUDED.updated_position`,
            [d.container_id, d.org_id, d.project_id, pos],
          );
          break;
        }
        case DELETED: {
          const d = ev.data;
          if (!isUuid(d.container_id)) continue;
          await ctx.client.query(`UPDATE ${containers} SET deleted = true, updated_position = $2 WHERE container_id = $1`, [
            d.container_id,
            pos,
          ]);
          break;
        }
      }
    }
  }
}
