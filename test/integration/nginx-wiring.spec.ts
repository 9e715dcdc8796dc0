import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModule } from '@nestjs/testing';
import { Pool } from 'pg';
import { Queue } from 'bullmq';
import { loadConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { QUEUE_NAME, ROUTES_CHANGED, RoutesChangedListener } from '@app/jobs';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { createWorker } from '../../apps/worker/src/bootstrap';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';
import { startTestNginx, TestNginx, viaNginx } from '../support/nginx';
import { eventually } from '../support/eventually';

jest.setTimeout(60_000);

/** The wiring: the worker renders at start and on ROUTES_CHANGED from the gateway process. */
describe('nginx rendering wired into the gateway and worker', () => {
  let nginx: TestNginx;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let gateway: TestingModule;
  let worker: NestFastifyApplication;
  let pool: Pool;
  let nodeId: string;

  beforeAll(async () => {
    nginx = await startTestNginx('wiring');
    db = await createTestDatabase('nginx_wiring');
    const env = { ...nginx.env, PLATFORM_DOMAIN: 'collab.test', NGINX_COALESCE_MIN_MS: '50', NGINX_COALESCE_MAX_MS: '500' };
    const config = loadConfig(testEnv(db.url, 'nginx_wiring', env));
    nodeId = config.nginx.nodeId;
    worker = await createWorker(config);
    await worker.init();
    // The gateway's module graph (createGateway itself also sets up Swagger, not needed here).
    const ds = await prepareDatabase({ ...config.database, migrate: false });
    gateway = await Test.createTestingModule({ imports: [GatewayModule.forRoot(config, ds)] }).compile();
    await gateway.init();
    pool = new Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await worker?.close();
    await gateway?.close();
    // Drop this file's Redis keys (jobs, the reconciliation scheduler) under its own prefix.
    const prefix = `cgw-test-nginx_wiring-${process.pid}`;
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    await q.removeJobScheduler(`nginx-reconcile.${nodeId}`).catch(() => undefined);
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
    await nginx?.stop();
    await db?.drop();
  });

  it('renders once at worker start and again after ROUTES_CHANGED', async () => {
    const state = async () => (await pool.query(`SELECT last_outcome FROM nginx_render_state`)).rows[0];
    await eventually(state, 10_000, 100, 'a render recorded');
    // The worker's start render swaps in the first map, unless the gateway's first ROUTES_CHANGED
    // (its routing projector starting up) got there first and the start render found it current.
    expect(['swapped', 'unchanged']).toContain((await state()).last_outcome);

    const [c, org] = [randomUUID(), randomUUID()];
    const host = `uc-${c}--web.org-${org}.collab.test`;
    await pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, vpn_address, updated_position)
       VALUES ($1, $2, $3, $4, 'web', 9, '127.0.0.9', 1)`,
      [host, c, org, randomUUID()],
    );
    await gateway.get<RoutesChangedListener>(ROUTES_CHANGED).routesChanged('test');
    const res = await eventually(
      async () => {
        const r = await viaNginx(nginx, host);
        return r.body.includes('unknown_host') ? null : r;
      },
      5_000,
      50,
    );
    // Nothing listens on 127.0.0.9:9: routed, and answered as unreachable.
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'unreachable' });
  });
});
