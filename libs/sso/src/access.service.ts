import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { PG_POOL } from '@app/database';
import { ConflictError, hasControlCharacters, parseInput, UUID_RE, ValidationError } from '@app/common';
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
  ) {}

  async registerUser(body: unknown, metadata: EventMetadata): Promise<{ user_id: string; email: string; name: string; position: string }> {
    const input = parseInput(registerUserBody, body);
    const userId = input.user_id ?? randomUUID();
    const taken = await this.pool.query(`SELECT 1 FROM access_users WHERE lower(email) = lower($1) AND user_id <> $2`, [
      input.email,
      userId,
    ]);
    if (taken.rowCount) throw ConflictError.of('email', 'is already registered');
    // The credential first: once the event is visible, the user can sign in.
    if (input.password) {
      await this.pool.query(
        `INSERT INTO sso_credentials (user_id, scrypt) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET scrypt = EXCLUDED.scrypt, updated_at = now()`,
        [userId, await hashPassword(input.password)],
      );
    }
    const data = { user_id: userId, email: input.email, name: input.name };
    try {
      const r = await this.store.append(userStream(userId), [{ type: USER_REGISTERED, data, metadata }], 'no_stream');
      return { ...data, position: r.events[r.events.length - 1].globalPosition };
    } catch (err) {
      if (err instanceof ConcurrencyError) throw ConflictError.of('user_id', 'is already registered');
      throw err;
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

  /** The read model's answer to "may user U open container C" (two primary-key lookups). */
  async mayOpen(userId: string, containerId: string): Promise<boolean> {
    if (!UUID_RE.test(userId)) throw ValidationError.of('user_id', 'must be a lower-case UUID');
    if (!UUID_RE.test(containerId)) throw ValidationError.of('container_id', 'must be a lower-case UUID');
    const { rows } = await this.pool.query(
      `SELECT EXISTS (SELECT 1 FROM access_containers c JOIN access_members m ON m.project_id = c.project_id AND m.user_id = $1
                       WHERE c.container_id = $2 AND NOT c.deleted) AS allowed`,
      [userId, containerId],
    );
    return rows[0].allowed;
  }
}
