import { Client } from 'pg';
import { prepareDatabase } from '@app/database';
import { createTestDatabase } from '../../test/support/db';
import { freePort } from '../../test/support/nginx';
import { BenchContext, Row } from '../lib/context';
import { startProcess } from '../lib/procs';

/**
 * A realistic log, written straight into a database of its own with one INSERT ... SELECT per
 * event kind (not through the API: the point is the replay): per container a registration, a VPN
 * address and two mapped services, then watchdogs round-robin across the fleet up to `total`.
 */
async function seedLog(url: string, containers: number, total: number): Promise<number> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query(`CREATE TEMP TABLE fleet AS
      SELECT n, gen_random_uuid() AS c, '11111111-1111-4111-8111-111111111111'::uuid AS org, gen_random_uuid() AS project
      FROM generate_series(0, $1::int - 1) n`, [containers]);
    const life = [
      [`user-container:registered`, `jsonb_build_object('container_id', c, 'org_id', org, 'project_id', project, 'image_id', 'ubuntu:terminal', 'display_name', 'c' || n, 'gateway_node', 'default')`],
      [`user-container:vpn-address-assigned`, `jsonb_build_object('container_id', c, 'org_id', org, 'project_id', project, 'gateway_node', 'default', 'address', host(('172.16.0.2'::inet + n)))`],
      [`user-container:http-service-mapped`, `jsonb_build_object('container_id', c, 'org_id', org, 'project_id', project, 'name', 'terminal', 'port', 7681)`],
      [`user-container:http-service-mapped`, `jsonb_build_object('container_id', c, 'org_id', org, 'project_id', project, 'name', 'jupyter', 'port', 8888)`],
    ];
    for (let v = 0; v < life.length; v++) {
      await pg.query(`INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
        SELECT 'container-' || c, ${v}, gen_random_uuid(), '${life[v][0]}', ${life[v][1]}, '{"actor":{"type":"operator","id":"bench"}}'::jsonb FROM fleet ORDER BY n`);
    }
    const watchdogs = total - containers * life.length;
    await pg.query(`INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
      SELECT 'watchdog-' || f.c, i / $1::int, gen_random_uuid(), 'user-container:watchdog',
        jsonb_build_object('container_id', f.c, 'org_id', f.org, 'project_id', f.project,
          'system', jsonb_build_object('cpu', jsonb_build_object('usage', '0.40, 0.43 ', 'count', '2'), 'memory', jsonb_build_object('free', 23665, 'total', 24105), 'disk', jsonb_build_object('size', '252G', 'usage', '23.00%'))),
        jsonb_build_object('actor', jsonb_build_object('type', 'container', 'id', f.c), 'received_at', now())
      FROM generate_series(0, $2::int - 1) i JOIN fleet f ON f.n = i % $1::int ORDER BY i`, [containers, watchdogs]);
    await pg.query(`INSERT INTO event_streams (stream_id, version) SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id`);
    return Number((await pg.query(`SELECT count(*) AS n FROM events`)).rows[0].n);
  } finally {
    await pg.end();
  }
}

/** Rebuild health and routing from the whole log into fresh tables and swap (the operators' replay). */
export async function replayScenario(ctx: BenchContext): Promise<Row[]> {
  const total = ctx.quick ? 100_000 : 1_000_000;
  const db = await createTestDatabase('bench_replay');
  const ds = await prepareDatabase({ url: db.url, poolSize: 2, statementTimeoutMs: 600_000, createIfMissing: false, migrate: true });
  await ds.destroy();
  const events = await seedLog(db.url, ctx.quick ? 500 : 5_000, total);
  const port = await freePort();
  const gw = await startProcess('replay-gateway', 'dist/apps/gateway/src/main.js',
    { ...ctx.env, DATABASE_URL: db.url, HTTP_PORT: String(port), PROJECTIONS_ENABLED: 'false', DATABASE_STATEMENT_TIMEOUT_MS: '600000', REDIS_PREFIX: `${ctx.env.REDIS_PREFIX}-replay` },
    `http://127.0.0.1:${port}/health/live`);
  const rows: Row[] = [];
  try {
    for (const projection of ['health', 'routing']) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/projections/${projection}/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${ctx.operatorToken}` } });
      const seconds = (performance.now() - t) / 1000;
      const body = await res.text();
      if (res.status !== 200) throw new Error(`rebuild ${projection} answered ${res.status}: ${body}`);
      const rate = events / seconds;
      rows.push({
        scenario: `replay ${projection} from ${events.toLocaleString('en')} events`,
        figure: 'events/s rebuilding into fresh tables + swap',
        value: `${Math.round(rate).toLocaleString('en')}/s (${seconds.toFixed(1)} s)`,
        target: '>= 50,000/s',
        met: rate >= 50_000,
        data: { events, seconds, result: JSON.parse(body) },
      });
    }
  } finally {
    await gw.stop();
    await db.drop();
  }
  return rows;
}
