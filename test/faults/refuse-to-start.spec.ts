import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';
import { startPrivateRedis } from '../support/private-redis';
import { spawnApp } from '../support/processes';

/**
 * Settings under which an acknowledged event or a queued job could be lost, or tokens forged:
 * gateway and worker refuse to start, saying why. (The database setting is made per database on
 * the shared server, the Redis one on a private Redis.)
 */
describe('faults: refusing to start on dangerous settings', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('refuse');
  });
  afterAll(async () => {
    await db.drop();
  });

  const refuses = async (kind: 'gateway' | 'worker', env: NodeJS.ProcessEnv, why: RegExp) => {
    const err = await spawnApp(kind, env).then(
      async (app) => {
        await app.stop();
        return null;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited during start/);
    expect(err?.message).toMatch(why);
  };

  it.each(['gateway', 'worker'] as const)(
    '%s: PostgreSQL synchronous_commit = off',
    async (kind) => {
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`ALTER DATABASE "${db.name}" SET synchronous_commit = off`);
      await admin.end();
      try {
        await refuses(kind, testEnv(db.url, 'refuse'), /Refusing to start[\s\S]*synchronous_commit is off/);
      } finally {
        const c = new Client({ connectionString: db.url });
        await c.connect();
        await c.query(`ALTER DATABASE "${db.name}" RESET synchronous_commit`);
        await c.end();
      }
    },
    120_000,
  );

  it.each(['gateway', 'worker'] as const)(
    '%s: Redis maxmemory-policy other than noeviction',
    async (kind) => {
      const redis = await startPrivateRedis('refuse', { 'maxmemory-policy': 'allkeys-lru' });
      try {
        await refuses(kind, testEnv(db.url, 'refuse', { REDIS_URL: redis.url }), /Refusing to start[\s\S]*maxmemory-policy is allkeys-lru/);
      } finally {
        await redis.close();
      }
    },
    120_000,
  );

  it('a signing key shorter than 32 bytes', async () => {
    await refuses(
      'gateway',
      testEnv(db.url, 'refuse', { JWT_KEYS: JSON.stringify({ short: randomBytes(16).toString('base64') }) }),
      /JWT_KEYS: key "short" is 16 bytes; at least 32 are required/,
    );
  }, 120_000);
});
