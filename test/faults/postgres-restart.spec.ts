import { eventually } from '../support/stack';
import { FaultStack, startFaultStack } from '../support/fault-stack';
import { Load } from '../support/load';
import type { AppProcess } from '../support/processes';

describe('faults: PostgreSQL restarted during sustained ingest', () => {
  let s: FaultStack;
  let gw: AppProcess;
  const aborts: (() => void)[] = [];

  beforeAll(async () => {
    s = await startFaultStack('pgrestart', { RATE_LIMIT_MAX: '0' });
    gw = await s.spawn('gateway');
  }, 120_000);
  afterAll(async () => {
    aborts.forEach((a) => a());
    await s?.close();
  });

  it('answers 503 problem+json with Retry-After while it is down, recovers by itself, and stores every acknowledged event exactly once', async () => {
    const containers = Array.from({ length: 6 }, () => s.container());
    const load = new Load(() => gw.url, containers);
    aborts.push(() => load.abort());
    const waitFor = (what: string, fn: () => boolean, ms: number) =>
      eventually(async () => fn(), ms, 50).catch((err) => {
        throw new Error(`${what}: ${(err as Error).message}; ${load.describe()}\ngateway output:\n${gw.output().slice(-3000)}`);
      });
    load.start();
    await waitFor('100 acknowledged', () => load.acked.size >= 100, 60_000);

    await s.pg.stop('immediate'); // a crash: no checkpoint, the WAL is replayed at the next start
    const ackedBefore = load.acked.size;
    await waitFor('503s while down', () => load.unavailable.length >= 20, 30_000);
    // Liveness stays simple; readiness says which dependency is down.
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).error.postgres.status).toBe('down');

    await s.pg.start();
    await waitFor('100 more acknowledged after the restart', () => load.acked.size >= ackedBefore + 100, 60_000);
    await load.stop();

    // What the client saw while the database was away: fast, retryable refusals, never a hang.
    expect(load.unexpected).toEqual([]);
    for (const u of load.unavailable) {
      expect(u.contentType).toMatch(/^application\/problem\+json/);
      expect(Number(u.retryAfter)).toBeGreaterThan(0);
      expect(['unavailable', 'store_unavailable']).toContain(u.code);
    }

    // Every event the clients sent was acknowledged in the end (each retried with its event_id)...
    expect(load.acked.size).toBe(load.sent.length);
    // ...and is in the store exactly once: no loss, no duplicate from a retry.
    const { rows } = await s.pool.query(
      `SELECT event_id::text AS id, global_position::text AS p FROM events WHERE event_id = ANY($1::uuid[])`,
      [load.sent],
    );
    expect(rows).toHaveLength(load.sent.length);
    expect(new Set(rows.map((r) => r.id)).size).toBe(load.sent.length);
    const byId = new Map(rows.map((r) => [r.id, r.p]));
    for (const [id, a] of load.acked) expect(byId.get(id)).toBe(a.position);
    const streams = containers.flatMap((c) => [`watchdog-${c.containerId}`, `container-${c.containerId}`]);
    const { rows: all } = await s.pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1)`, [streams]);
    expect(all[0].n).toBe(load.sent.length);

    // The gateway recovered by itself: ready again, projectors caught up with the whole log.
    await eventually(async () => (await fetch(`${gw.url}/health/ready`)).status === 200, 60_000, 200);
    const op = s.operator();
    await eventually(
      async () => {
        const res = await fetch(`${gw.url}/projections`, { headers: { authorization: `Bearer ${op}` } });
        const body = (await res.json()) as { projections: { events_behind: number }[] };
        return res.status === 200 && body.projections.length > 0 && body.projections.every((p) => p.events_behind === 0);
      },
      60_000,
      200,
    );
  }, 300_000);
});
