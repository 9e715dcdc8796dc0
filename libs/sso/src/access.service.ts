import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { PG_POOL } from '@app/database';
import { ConflictError, hasControlCharacters, NotFoundError, parseInput, UUID_RE, ValidationError } from '@app/common';
import { NIL_UUID, ProjectsService } from '@app/onboarding';
import { ConcurrencyError, EventMetadata, EventStore } from '@app/event-store';
import { decideAccess, evolveProjectAccess, initialProjectAccess } from './domain/access';
import { projectAccessStream, USER_REGISTERED, userStream } from './domain/events';
import { hashPassword } from './users';

const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
const printable = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !hasControlCharacters(v), 'must not contain control characters');
export const registerUserBody = z.strictObject({
  user_id: uuid.optional(),
  email: z
    .string()
    .max(320)
    .regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'must be an ASCII email address'),
  name: printable(200),
  /** Optional: users who sign in through an upstream identity provider have none here. */
  password: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
});

const MAX_ATTEMPTS = 5;

/** The platform's side: users and project access, as events. */
@Injectable()
export class AccessService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(ProjectsService) private readonly projects: ProjectsService,
  ) {}

  /**
   * One command, all or nothing: the user's row (unique user id, unique email) and the credential
   * are written in a transaction that commits only once the `platform-user:registered` event is
   * appended; any refusal (a taken email or id, a lost race, the store away) rolls both back.
   * A second request for the same email waits on the first one's row and then gets 409.
   */
  async registerUser(body: unknown, metadata: EventMetadata): Promise<{ user_id: string; email: string; name: string; position: string }> {
    const input = parseInput(registerUserBody, body);
    const userId = input.user_id ?? randomUUID();
    // Hashed before the transaction: scrypt takes tens of milliseconds, no row is locked meanwhile.
    const scrypt = input.password ? await hashPassword(input.password) : undefined;
    const data = { user_id: userId, email: input.email, name: input.name };
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client
        .query(`INSERT INTO platform_users (user_id, email_lower) VALUES ($1, lower($2))`, [userId, input.email])
        .catch((err: { code?: string; constraint?: string }) => {
          if (err?.code !== '23505') throw err;
          throw err.constraint === 'platform_users_email_uq'
            ? ConflictError.of('email', 'is already registered')
            : ConflictError.of('user_id', 'is already registered');
        });
      if (scrypt) {
        // A row without a user (left by a failed registration before this transaction existed) is replaced.
        await client.query(
          `INSERT INTO sso_credentials (user_id, scrypt) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET scrypt = EXCLUDED.scrypt, updated_at = now()`,
          [userId, scrypt],
        );
      }
      const r = await this.store.append(userStream(userId), [{ type: USER_REGISTERED, data, metadata }], 'no_stream').catch((err) => {
        throw err instanceof ConcurrencyError ? ConflictError.of('user_id', 'is already registered') : err;
      });
      await client.query('COMMIT');
      return { ...data, position: r.events[r.events.length - 1].globalPosition };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  grant(projectId: string, userId: string, metadata: EventMetadata) {
    return this.change('grant', projectId, userId, metadata);
  }

  revoke(projectId: string, userId: string, metadata: EventMetadata) {
    return this.change('revoke', projectId, userId, metadata);
  }

  private async change(type: 'grant' | 'revoke', projectId: string, userId: string, metadata: EventMetadata) {
    if (!UUID_RE.test(projectId)) throw ValidationError.of('project_id', 'must be a lower-case UUID');
    if (!UUID_RE.test(userId)) throw ValidationError.of('user_id', 'must be a lower-case UUID');
    if (type === 'grant') await this.assertKnown(projectId, userId);
    const stream = projectAccessStream(projectId);
    for (let attempt = 1; ; attempt++) {
      const state = (await this.store.readStream(stream)).reduce(evolveProjectAccess, initialProjectAccess());
      const events = decideAccess({ type, project_id: projectId, user_id: userId }, state);
      if (!events.length) return { project_id: projectId, user_id: userId, status: 'unchanged' as const };
      try {
        const r = await this.store.append(
          stream,
          events.map((e) => ({ ...e, metadata })),
          state.version === -1 ? 'no_stream' : state.version,
        );
        return {
          project_id: projectId,
          user_id: userId,
          status: type === 'grant' ? ('granted' as const) : ('revoked' as const),
          position: r.events[r.events.length - 1].globalPosition,
        };
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** A grant names a registered user and a project some container was registered in (bound to its org). */
  private async assertKnown(projectId: string, userId: string): Promise<void> {
    if (projectId === NIL_UUID) throw ValidationError.of('project_id', 'must not be the nil UUID');
    const { rowCount } = await this.pool.query(`SELECT 1 FROM platform_users WHERE user_id = $1`, [userId]);
    if (!rowCount) throw new NotFoundError('user_id: no such user', [{ field: 'user_id', message: 'no user was registered with this id' }]);
    if (!(await this.projects.orgOf(projectId)))
      throw new NotFoundError('project_id: no such project', [
        { field: 'project_id', message: 'no container was registered in this project' },
      ]);
  }

  /** The read model's answer to "may user U open container C" (two primary-key lookups). */
  mayOpen(userId: string, containerId: string): Promise<boolean> {
    return userMayOpen(this.pool, userId, containerId);
  }
}

/** "May user U open container C", from the access read model (two primary-key lookups); for readers without the service. */
export async function userMayOpen(pool: Pool, userId: string, containerId: string): Promise<boolean> {
  if (!UUID_RE.test(userId)) throw ValidationError.of('user_id', 'must be a lower-case UUID');
  if (!UUID_RE.test(containerId)) throw ValidationError.of('container_id', 'must be a lower-case UUID');
  const { rows } = await pool.query(
    `SELECT EXISTS (SELECT 1 FROM access_containers c JOIN access_members m ON m.project_id = c.project_id AND m.user_id = $1
                     WHERE c.container_id = $2 AND NOT c.deleted) AS allowed`,
    [userId, containerId],
  );
  return rows[0].allowed;
}
