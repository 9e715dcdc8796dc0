import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NGINX_BIN, startTestNginx, TestNginx } from '../support/nginx';
import { eventually } from '../support/stack';
import { FaultStack, fqdnOf, mapService, startFaultStack } from '../support/fault-stack';
import { Load } from '../support/load';
import type { AppProcess } from '../support/processes';

const DOMAIN = 'faults.test';

/**
 * The worker's nginx binary is a wrapper the test controls: it can be missing (renamed away),
 * failing (exit 1), or slow on `nginx -t` (so the worker can be SIGKILLed mid-render).
 */
async function nginxWrapper(dir: string) {
  const bin = join(dir, 'nginx-wrapper');
  const flag = (name: string) => join(dir, `flag-${name}`);
  await writeFile(
    bin,
    `#!/bin/sh
if [ -e ${flag('broken')} ]; then echo "nginx: [emerg] simulated failure" >&2; exit 1; fi
case " $* " in *" -t "*) if [ -e ${flag('slow')} ]; then touch ${flag('in-test')}; sleep 20; fi;; esac
exec ${NGINX_BIN} "$@"
`,
  );
  await chmod(bin, 0o755);
  return {
    bin,
    set: (name: 'broken' | 'slow', on: boolean) => (on ? writeFile(flag(name), '') : rm(flag(name), { force: true })),
    entered: () => existsSync(flag('in-test')),
    missing: (on: boolean) => (on ? rename(bin, bin + '.away') : rename(bin + '.away', bin)),
  };
}

describe('faults: nginx failing or missing, worker and gateway SIGKILLed', () => {
  let s: FaultStack;
  let nginx: TestNginx;
  let wrapper: Awaited<ReturnType<typeof nginxWrapper>>;
  let gw: AppProcess;
  let worker: AppProcess;
  const aborts: (() => void)[] = [];
  const liveMap = () => readFile(nginx.mapPath, 'utf8');
  const servingHash = async () => (await fetch(nginx.statusUrl).then((r) => r.text())).trim();
  const declaredHash = (text: string) => /default "([0-9a-f]{64}|none)"/.exec(text)?.[1];
  const served = async (host: string) => {
    const text = await liveMap();
    return text.includes(host) && (await servingHash()) === declaredHash(text);
  };
  const metric = async (name: string, labels: string) => {
    const text = await fetch(`${worker.url}/metrics`).then((r) => r.text());
    const line = text.split('\n').find((l) => l.startsWith(name + '{') && labels.split(',').every((kv) => l.includes(kv)));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    nginx = await startTestNginx('faults-nginx');
    wrapper = await nginxWrapper(nginx.dir);
    s = await startFaultStack('nginxcrash', {
      ...nginx.env,
      NGINX_BIN: wrapper.bin,
      PLATFORM_DOMAIN: DOMAIN,
      RATE_LIMIT_MAX: '0',
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
      NGINX_RECONCILE_INTERVAL_MS: '2000',
      NGINX_COMMAND_TIMEOUT_MS: '3000',
      NGINX_CONFIRM_TIMEOUT_MS: '2000',
    });
    gw = await s.spawn('gateway');
    worker = await s.spawn('worker');
  }, 120_000);
  afterAll(async () => {
    aborts.forEach((a) => a());
    await wrapper?.set('slow', false);
    await s?.close();
    await nginx?.stop();
  });

  it.each([
    ['missing', (on: boolean) => wrapper.missing(on)],
    ['failing', (on: boolean) => wrapper.set('broken', on)],
  ])(
    'the nginx binary %s: the last good config keeps serving, the failure shows in /metrics and /health/ready, and it heals',
    async (_what, breakIt) => {
      const a = s.container();
      await mapService(gw.url, a, 'web', 8080);
      await eventually(() => served(fqdnOf(a, 'web', DOMAIN)), 30_000, 100);
      const good = await liveMap();
      const failuresBefore = await metric('nginx_render_failures_total', 'stage="validate"');

      await breakIt(true);
      const b = s.container();
      await mapService(gw.url, b, 'web', 8080);
      await eventually(async () => (await metric('nginx_render_failures_total', 'stage="validate"')) > failuresBefore, 30_000, 100);
      const ready = await eventually(
        async () => {
          const res = await fetch(`${worker.url}/health/ready`);
          return res.status === 503 ? ((await res.json()) as any) : null;
        },
        30_000,
        100,
      );
      expect(ready.error.nginx).toMatchObject({ status: 'down', last_outcome: 'failed', failed_stage: 'validate' });
      expect(ready.info.postgres.status).toBe('up');
      // The last good config is untouched and still what nginx serves.
      expect(await liveMap()).toBe(good);
      expect(await servingHash()).toBe(declaredHash(good));
      expect(await served(fqdnOf(b, 'web', DOMAIN))).toBe(false);

      await breakIt(false);
      await eventually(() => served(fqdnOf(b, 'web', DOMAIN)), 60_000, 100);
      await eventually(async () => (await fetch(`${worker.url}/health/ready`)).status === 200, 30_000, 100);
    },
    180_000,
  );

  it('the worker SIGKILLed mid-render: no half-written config goes live; a new worker renders once the lock lapses', async () => {
    const a = s.container();
    await mapService(gw.url, a, 'web', 8080);
    await eventually(() => served(fqdnOf(a, 'web', DOMAIN)), 30_000, 100);
    const good = await liveMap();

    await wrapper.set('slow', true);
    const b = s.container();
    await mapService(gw.url, b, 'web', 8080);
    await eventually(async () => wrapper.entered(), 30_000, 20); // `nginx -t` of B's candidate is running
    await worker.kill('SIGKILL');
    await wrapper.set('slow', false);

    expect(await liveMap()).toBe(good);
    expect(await servingHash()).toBe(declaredHash(good));
    worker = await s.spawn('worker');
    // The dead worker's lock expires (its TTL), then the new worker's render takes B live.
    await eventually(() => served(fqdnOf(b, 'web', DOMAIN)), 120_000, 200);
    expect(await served(fqdnOf(a, 'web', DOMAIN))).toBe(true);
  }, 240_000);

  it('the gateway SIGKILLed mid-request: every acknowledged event is stored once; retries with the same event_id land once', async () => {
    let url = gw.url;
    const containers = Array.from({ length: 6 }, () => s.container());
    const load = new Load(() => url, containers, true);
    aborts.push(() => load.abort());
    load.start();
    await eventually(async () => load.acked.size >= 100, 60_000, 20);
    await gw.kill('SIGKILL');
    const ackedAtKill = new Map(load.acked);
    gw = await s.spawn('gateway');
    url = gw.url;
    await eventually(async () => load.acked.size >= ackedAtKill.size + 100, 60_000, 20);
    await load.stop();

    expect(load.unexpected).toEqual([]);
    expect(load.acked.size).toBe(load.sent.length);
    const { rows } = await s.pool.query(
      `SELECT event_id::text AS id, global_position::text AS p FROM events WHERE event_id = ANY($1::uuid[])`,
      [load.sent],
    );
    expect(rows).toHaveLength(load.sent.length);
    const byId = new Map(rows.map((r) => [r.id, r.p]));
    for (const [id, a] of ackedAtKill) expect(byId.get(id)).toBe(a.position);
    const streams = containers.flatMap((c) => [`watchdog-${c.containerId}`, `container-${c.containerId}`]);
    const { rows: all } = await s.pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1)`, [streams]);
    expect(all[0].n).toBe(load.sent.length);
  }, 240_000);
});
