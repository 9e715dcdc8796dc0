import { Queue, QueueEvents } from 'bullmq';
import { Client } from 'pg';
import { loadConfig } from '@app/config';
import { QUEUE_NAME } from '@app/jobs';
import { createWorker } from '../../apps/worker/src/bootstrap';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';

describe('worker process', () => {
  it('starts on real PostgreSQL and Redis, migrates, and runs jobs from the shared queue', async () => {
    const db = await createTestDatabase('worker');
    const config = loadConfig(testEnv(db.url, 'worker', { WORKER_HTTP_PORT: '0', NGINX_RENDER_ENABLED: 'false' }));
    const app = await createWorker(config);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const connection = { url: config.redis.url };
    const queue = new Queue(QUEUE_NAME, { connection, prefix: config.redis.prefix });
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: config.redis.prefix });
    try {
      await events.waitUntilReady();
      const sentAt = new Date().toISOString();
      const job = await queue.add('system:ping', { sentAt }, { removeOnComplete: true });
      const result = await job.waitUntilFinished(events, 10_000);
      expect(result).toEqual({ sentAt, ranAt: expect.any(String) });

      const port = (app.getHttpServer().address() as { port: number }).port;
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const { rows } = await pg.query('SELECT count(*)::int AS n FROM schema_migrations');
      await pg.end();
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await events.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await app.close();
      await db.drop();
    }
  });
});
