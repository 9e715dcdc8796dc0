import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { loadConfig } from '@app/config';
import { poolOf, prepareDatabase } from '@app/database';
import { NginxControl, NginxRenderer, type RenderDiff } from '@app/nginx';
import { createRedis } from '@app/redis';
import { ops } from '../support/audit';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';
import { startTestNginx, type TestNginx } from '../support/nginx';

jest.setTimeout(120_000);
const DOMAIN = 'collab.test';
const ORG = randomUUID();
const fqdn = (c: string, s: string) => `uc-${c}--${s}.org-${ORG}.${DOMAIN}`;

/**
 * `ops render --diff` against a real nginx, in both modes: the rendered map nginx reloads, and live
 * routes (what nginx's shared dict holds, read over the route channel). The routes table changes
 * under a served render; the dry run names each change and each refused row, writes nothing, and
 * after the worker's render finds no difference.
 */
describe.each([
  ['map file and reload', false],
  ['live routes', true],
])('ops render --diff (%s)', (label, live) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: Awaited<ReturnType<typeof prepareDatabase>>;
  let pool: Pool;
  let redis: Redis;
  let nginx: TestNginx;
  let renderer: NginxRenderer;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase(live ? 'render_diff_live' : 'render_diff_map');
    nginx = await startTestNginx(live ? 'diff-live' : 'diff-map', { live });
    env = testEnv(db.url, live ? 'diff-live' : 'diff-map', { ...nginx.env, PLATFORM_DOMAIN: DOMAIN }) as Record<string, string>;
    const config = loadConfig(env);
    ds = await prepareDatabase({ ...config.database, migrate: true });
    pool = poolOf(ds);
    redis = createRedis(config.redis.url, `render-diff-${label}`);
    renderer = new NginxRenderer(pool, redis, config.redis.prefix, config.nginx, DOMAIN, new NginxControl(config.nginx));
  });
  afterAll(async () => {
    await redis?.quit();
    await ds?.destroy();
    await nginx?.stop();
    await db?.drop();
  });

  const upsert = (c: string, service: string, o: { port?: number; address?: string; active?: boolean } = {}) =>
    pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, is_primary, vpn_address, active, updated_position)
       VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8, 1)
       ON CONFLICT (fqdn) DO UPDATE SET port = excluded.port, vpn_address = excluded.vpn_address, active = excluded.active`,
      [fqdn(c, service), c, ORG, randomUUID(), service, o.port ?? 8888, o.address ?? '127.0.0.9', o.active ?? true],
    );
  const diff = async (...args: string[]) => {
    const r = await ops(['render', '--diff', ...args], env);
    return { ...r, diff: args.includes('--json') ? (JSON.parse(r.stdout) as RenderDiff) : undefined };
  };

  it('names what the next render adds, removes and changes, and the rows it refuses; after the render, nothing', async () => {
    const [kept, moved, gone, hostile] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await upsert(kept, 'web');
    await upsert(moved, 'jupyter');
    await upsert(gone, 'pgadmin');
    expect((await renderer.render()).outcome).toBe('swapped');
    const pids = () =>
      nginx
        .processes()
        .map((p) => p.pid)
        .sort();
    const before = pids();

    const fresh = randomUUID();
    await upsert(fresh, 'n8n', { port: 5678 });
    await upsert(moved, 'jupyter', { port: 9999 });
    await pool.query(`DELETE FROM routes WHERE container_id = $1`, [gone]);
    // A row outside the VPN ranges: refused by the render, and shown as refused, never as a route.
    await upsert(hostile, 'evil', { address: '10.1.2.3' });

    const { code, diff: d } = await diff('--json');
    expect(code).toBe(0);
    expect(d!.served).toMatchObject({ source: live ? 'live' : 'map-file', routes: 3, confirmed: true });
    expect(d!.added).toEqual([{ host: fqdn(fresh, 'n8n'), value: '127.0.0.9:5678' }]);
    expect(d!.removed).toEqual([{ host: fqdn(gone, 'pgadmin'), value: '127.0.0.9:8888' }]);
    expect(d!.changed).toEqual([{ host: fqdn(moved, 'jupyter'), from: '127.0.0.9:8888', to: '127.0.0.9:9999' }]);
    expect(d!.next.routes).toBe(3);
    expect(d!.next.skipped).toEqual([expect.objectContaining({ fqdn: fqdn(hostile, 'evil') })]);
    expect(JSON.stringify(d)).not.toContain('10.1.2.3');

    const text = await diff('--exit-code');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`+ ${fqdn(fresh, 'n8n')} 127.0.0.9:5678`);
    expect(text.stdout).toContain(`- ${fqdn(gone, 'pgadmin')} 127.0.0.9:8888`);
    expect(text.stdout).toContain(`~ ${fqdn(moved, 'jupyter')} 127.0.0.9:8888 -> 127.0.0.9:9999`);
    expect(text.stdout).toContain(`! ${fqdn(hostile, 'evil')}: `);
    expect(text.stdout).toContain('1 added, 1 removed, 1 changed');
    // A dry run: nothing reloaded (the same nginx processes), nothing served changed.
    expect(pids()).toEqual(before);
    expect((await diff('--json')).diff!.served.routes).toBe(3);

    expect((await renderer.render()).outcome).toBe('swapped');
    const after = await diff('--exit-code');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('no change: nginx serves what the next render would');
  });

  it('says when nginx does not confirm what the file on disk holds', async () => {
    await nginx.halt();
    try {
      const { code, stdout, stderr } = await ops(['render', '--diff', '--json'], env);
      if (live) {
        // The route channel is nginx itself: no nginx, no answer, and the message names the socket.
        expect(code).toBe(1);
        expect(stderr).toContain(`nginx's route channel ${nginx.socket}`);
      } else {
        expect(code).toBe(0);
        const d = JSON.parse(stdout) as RenderDiff;
        expect(d.served.confirmed).toBe(false);
        expect(d.served.note).toMatch(/no answer from/);
      }
    } finally {
      await nginx.restart();
    }
  });

  it('refuses to render for real and bad options, naming them', async () => {
    const plain = await ops(['render'], env);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--diff');
    const bad = await ops(['render', '--diff', '--limit', 'many'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit');
  });
});
