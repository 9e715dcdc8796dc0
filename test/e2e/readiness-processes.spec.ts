import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { loadConfig } from '@app/config';
import { tokenServiceFor } from '@app/auth';
import { createTestDatabase } from '../support/db';
import { containerToken, testEnv } from '../support/gateway';
import { postJson } from '../support/fault-stack';
import { AppProcess, spawnApp } from '../support/processes';
import { eventually } from '../support/stack';

const MAX_LAG_S = 2;
type Check = { status: string; lagging?: { projection: string; seconds_behind: number }[] };
type Report = { status: number; body: { info: Record<string, Check>; error: Record<string, Check> } };

/**
 * Readiness in the production topology: a gateway (PROJECTIONS_ENABLED=false) and a worker (the
 * projectors, the audit sealer and its maintenance lease) as processes, READINESS_MAX_PROJECTION_LAG_S
 * short. While events flow for several windows both answer 200: the lease-only row
 * `audit-maintenance` (checkpoint never moves) is not a projection that trails. With the worker
 * stopped (SIGSTOP), the gateway's readiness names the projections that trail; resumed, 200 again.
 */
describe('e2e: readiness of gateway and worker counts only what follows the log', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let gateway: AppProcess;
  let worker: AppProcess;
  let stopped = false;
  let c: ReturnType<typeof containerToken>;

  beforeAll(async () => {
    db = await createTestDatabase('ready_procs');
    const label = `ready-${randomUUID().slice(0, 8)}`;
    const env = testEnv(db.url, label, { READINESS_MAX_PROJECTION_LAG_S: String(MAX_LAG_S), NGINX_RENDER_ENABLED: 'false' });
    c = containerToken(tokenServiceFor(loadConfig(env)));
    gateway = await spawnApp('gateway', { ...env, PROJECTIONS_ENABLED: 'false' }, 180_000);
    worker = await spawnApp('worker', { ...env, PROJECTIONS_ENABLED: 'true' }, 180_000);
    pool = new Pool({ connectionString: db.url, max: 2 });
  }, 400_000);

  afterAll(async () => {
    if (stopped) process.kill(worker.pid, 'SIGCONT');
    await Promise.all([gateway?.kill('SIGKILL'), worker?.kill('SIGKILL')]);
    await pool?.end();
    await db?.drop();
  });

  const ready = async (app: AppProcess): Promise<Report> => {
    const res = await fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as Report['body'] };
  };
  const lagging = (r: Report): string[] => (r.body.error?.projections?.lagging ?? []).map((l) => l.projection);
  const post = async () => {
    const res = await postJson(`${gateway.url}/collab/event`, c.token, {
      event: { type: 'user-container:watchdog', system: { cpu: { usage: '0.40, 0.43 ' } } },
      project_id: c.projectId,
    });
    expect(res.status).toBe(202);
  };
  /** Posts a watchdog every 200 ms for `ms`, sampling both readiness reports meanwhile. */
  const flow = async (ms: number, apps: AppProcess[]) => {
    const samples: Report[] = [];
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await post();
      for (const a of apps) samples.push(await ready(a));
      await new Promise((r) => setTimeout(r, 200));
    }
    return samples;
  };

  it('both 200 while events flow for several windows; the lease-only row is never counted', async () => {
    await eventually(async () => (await ready(gateway)).status === 200 && (await ready(worker)).status === 200, 60_000, 200);
    const samples = await flow(5 * MAX_LAG_S * 1000, [gateway, worker]);
    // The row that used to keep readiness down is there, and its checkpoint has not moved.
    const { rows } = await pool.query(`SELECT global_position::text AS p FROM projections WHERE name = 'audit-maintenance'`);
    expect(rows).toEqual([{ p: '0' }]);
    expect(samples.flatMap(lagging)).not.toContain('audit-maintenance');
    // A slow moment on a shared machine may trail briefly; once settled, both are ready.
    for (const app of [gateway, worker]) {
      const r = await eventually(
        async () => {
          const x = await ready(app);
          return x.status === 200 ? x : null;
        },
        20_000,
        200,
      );
      expect(r.body.info.projections.lagging).toEqual([]);
    }
  }, 120_000);

  it("with the worker's projectors stopped the gateway's readiness names the projections that trail", async () => {
    process.kill(worker.pid, 'SIGSTOP');
    stopped = true;
    await post();
    const down = await eventually(
      async () => {
        const r = await ready(gateway);
        return r.status === 503 ? r : null;
      },
      30_000,
      200,
    );
    const names = lagging(down);
    expect(names).toEqual(expect.arrayContaining(['health', 'routing', 'audit-seal']));
    expect(names).not.toContain('audit-maintenance');
    expect(down.body.info.postgres.status).toBe('up');
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);

    process.kill(worker.pid, 'SIGCONT');
    stopped = false;
    await eventually(async () => (await ready(gateway)).status === 200 && (await ready(worker)).status === 200, 60_000, 200);
  }, 120_000);
});
