// Render + `nginx -t` + reload (confirmed) for 10,000 and 100,000 routes on a real nginx.
// Run: node -r ./test/support/ts-register.js bench/nginx-render.ts [counts...]
import { randomUUID } from 'node:crypto';
import { parseCidr, safeSwap } from '@app/common';
import { loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { LiveClient, liveEntries, NginxControl, NginxRenderer, renderStage2Map, SetHash, stage2Pairs } from '@app/nginx';
import type { RenderRoute } from '@app/routing';
import { createRedis } from '@app/redis';
import { createTestDatabase } from '../test/support/db';
import { testEnv } from '../test/support/gateway';
import { startTestNginx } from '../test/support/nginx';

const DOMAIN = 'collab.test';
const since = (t: number) => Math.round(performance.now() - t);

export interface RenderTiming {
  routes: number;
  bytes: number;
  render_ms: number;
  test_ms: number;
  /** reload + confirmation that the new map serves (includes a 250 ms settle in NginxControl). */
  reload_ms: number;
  total_ms: number;
}

/** Render `count` routes into a map, `nginx -t` the candidate, swap, reload, confirm: the timings. */
export async function measureRender(count: number): Promise<RenderTiming> {
  const nginx = await startTestNginx(`bench${count}`);
  try {
    const control = new NginxControl({
      bin: nginx.env.NGINX_BIN,
      prefix: nginx.env.NGINX_PREFIX,
      conf: nginx.conf,
      mapPath: nginx.mapPath,
      reloadCmd: [nginx.env.NGINX_BIN, '-p', nginx.env.NGINX_PREFIX, '-c', nginx.conf, '-s', 'reload'],
      statusUrl: nginx.statusUrl,
      commandTimeoutMs: 120_000,
      confirmTimeoutMs: 120_000,
    });
    const rows = syntheticRows(count);
    const t0 = performance.now();
    const file = renderStage2Map(rows, { domain: DOMAIN, vpnRanges: [parseCidr('127.0.0.0/8')] });
    const render = since(t0);
    let test = 0;
    let reload = 0;
    await safeSwap(nginx.mapPath, file.text, {
      validate: async (candidate) => {
        const t1 = performance.now();
        await control.test(candidate);
        test = since(t1);
      },
      activate: async () => {
        const t1 = performance.now();
        await control.reload();
        await control.confirm(file.hash);
        reload = since(t1);
      },
    });
    return { routes: count, bytes: file.text.length, render_ms: render, test_ms: test, reload_ms: reload, total_ms: since(t0) };
  } finally {
    await nginx.stop();
  }
}

export interface LiveColdStart {
  routes: number;
  names: number;
  /** nginx started on a rendered map of `routes` rows: spawn -> answering. */
  start_ms: number;
  /** The worker's first snapshot of every name over the route channel, confirmed (generation, count, hash). */
  snapshot_ms: number;
}

/** Live routes' cold start: nginx starts from the rendered map, then the first snapshot fills its shared dict. */
export async function measureLiveColdStart(count: number): Promise<LiveColdStart> {
  const rows = syntheticRows(count);
  const policy = { domain: DOMAIN, vpnRanges: [parseCidr('127.0.0.0/8')] };
  const file = renderStage2Map(rows, policy);
  const t0 = performance.now();
  const nginx = await startTestNginx(`cold${count}`, { live: true, map: file.text });
  const start = since(t0);
  try {
    const { entries } = liveEntries(stage2Pairs(rows, policy).pairs);
    const body = [...entries].map(([h, v]) => `${h} ${v}\n`).join('');
    const t1 = performance.now();
    const s = await new LiveClient(nginx.socket!, 120_000).snapshot(1, body);
    const snapshot = since(t1);
    if (s.count !== entries.size || s.hash !== SetHash.of(entries).hex()) throw new Error(`snapshot not confirmed: ${JSON.stringify(s)}`);
    return { routes: count, names: entries.size, start_ms: start, snapshot_ms: snapshot };
  } finally {
    await nginx.stop();
  }
}

function syntheticRows(count: number): RenderRoute[] {
  const org = randomUUID();
  return Array.from({ length: count }, (_, i) => {
    const c = randomUUID();
    return {
      fqdn: `uc-${c}--svc.org-${org}.${DOMAIN}`,
      container_id: c,
      org_id: org,
      service: 'svc',
      port: 8000 + (i % 1000),
      is_primary: i % 2 === 0,
      vpn_address: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`,
      gateway_node: null,
      active: true,
    };
  });
}

/** The whole render job: SELECT from a real routes table + render + nginx -t + reload + confirm. */
async function benchJob(count: number): Promise<void> {
  const nginx = await startTestNginx(`job${count}`);
  const db = await createTestDatabase(`bench_${count}`);
  const config = loadConfig(
    testEnv(db.url, `bench${count}`, {
      ...nginx.env,
      PLATFORM_DOMAIN: DOMAIN,
      NGINX_COMMAND_TIMEOUT_MS: '120000',
      NGINX_CONFIRM_TIMEOUT_MS: '120000',
    }),
  );
  const ds = await prepareDatabase({ ...config.database, migrate: true });
  const redis = createRedis(config.redis.url, 'bench');
  try {
    const org = randomUUID();
    await ds.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, is_primary, vpn_address, updated_position)
       SELECT 'uc-' || c || '--svc.org-' || $1 || '.' || $2, c, $1::uuid, $1::uuid, 'svc', 8000, i % 2 = 0,
              ('127.0.0.0'::inet + (i + 1)), i
         FROM (SELECT gen_random_uuid() AS c, i FROM generate_series(1, $3::int) i) g`,
      [org, DOMAIN, count],
    );
    const renderer = new NginxRenderer(poolOf(ds), redis, config.redis.prefix, config.nginx, DOMAIN, new NginxControl(config.nginx));
    const first = await renderer.render();
    const again = await renderer.render();
    console.log(
      `job with ${count} rows in PostgreSQL: ${first.outcome} in ${first.durationMs} ms (${first.routes} host names, ${first.skipped.length} skipped); unchanged re-render ${again.outcome} in ${again.durationMs} ms`,
    );
  } finally {
    redis.disconnect();
    await ds.destroy();
    await db.drop();
    await nginx.stop();
  }
}

if (require.main === module) {
  (async () => {
    const counts = process.argv.slice(2).map(Number);
    for (const n of counts.length ? counts : [10_000, 100_000]) {
      const t = await measureRender(n);
      console.log(
        `${n} routes (${(t.bytes / 1e6).toFixed(1)} MB): render ${t.render_ms} ms, nginx -t ${t.test_ms} ms, reload+confirm ${t.reload_ms} ms (includes a 250 ms settle), total ${t.total_ms} ms`,
      );
    }
    for (const n of counts.length ? counts : [10_000, 100_000]) await benchJob(n);
    for (const n of counts.length ? counts : [100_000]) console.log(`live cold start: ${JSON.stringify(await measureLiveColdStart(n))}`);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
