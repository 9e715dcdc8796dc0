import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../support/gateway';
import { call } from '../support/http';
import { eventually } from '../support/stack';

jest.setTimeout(180_000);

const DOMAIN = 'tt.test';
const SERVICES = ['terminal', 'notebook', 'lab'];

/** A small deterministic generator, so a failing log can be replayed from its seed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Snapshot {
  position: string;
  routes: Record<string, unknown>[];
  health: { container_id: string; status: string; deleted: boolean; watchdogs: number; last_watchdog_at: string | null }[];
}

/**
 * Time travel (GET /routes?at=, /routes/diff, /containers/{id}?at=) against the read models
 * themselves: a random log is written through the API; after each step the live projections'
 * rows are photographed with the position they stand on; afterwards every photograph must equal
 * the answer folded from the log at that position.
 */
describe('time travel equals the read models as they stood (real PostgreSQL, random logs)', () => {
  let g: TestGateway;
  const operator = () => g.tokens.sign({ role: 'operator', sub: 'operator-test' }, 3600);
  const get = (path: string) => call(g.url, 'GET', path, operator());

  beforeAll(async () => {
    g = await startTestGateway('time_travel', { PLATFORM_DOMAIN: DOMAIN, PROJECTION_POLL_MS: '20' });
  });
  afterAll(async () => {
    await g?.close();
  });

  /** Waits until the routing and health projections have applied every committed event; returns that position. */
  async function settled(): Promise<string> {
    return eventually(async () => {
      const { rows } = await g.pool.query(
        `SELECT (SELECT max(global_position)::text FROM events) AS head,
                (SELECT min(global_position)::text FROM projections WHERE name IN ('routing', 'health')) AS at`,
      );
      return rows[0].head && rows[0].head === rows[0].at ? (rows[0].head as string) : null;
    }, 60_000);
  }

  async function photograph(): Promise<Snapshot> {
    const position = await settled();
    const routes = (
      await g.pool.query(
        `SELECT fqdn, container_id::text, org_id::text, project_id::text, service, port, is_primary, host(vpn_address) AS vpn_address,
                gateway_node, active, protected FROM routes ORDER BY fqdn`,
      )
    ).rows;
    const health = (
      await g.pool.query(
        `SELECT container_id::text, status, deleted, watchdogs::int AS watchdogs, last_watchdog_at FROM container_health ORDER BY container_id`,
      )
    ).rows.map((r) => ({ ...r, last_watchdog_at: r.last_watchdog_at ? new Date(r.last_watchdog_at).toISOString() : null }));
    return { position, routes, health };
  }

  it.each([7, 1234, 98765])('seed %i: every photograph equals the fold of the log at its position', async (seed) => {
    const rnd = random(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const org = randomUUID();
    const containers: { id: string; token: string; project: string; deleted: boolean }[] = [];
    const snapshots: Snapshot[] = [];

    for (let step = 0; step < 24; step++) {
      const live = containers.filter((c) => !c.deleted);
      const roll = rnd();
      if (!live.length || (roll < 0.15 && containers.length < 4)) {
        const project = randomUUID();
        const reg = await call(g.url, 'POST', '/onboarding/containers', operator(), {
          org_id: org,
          project_id: project,
          image_id: 'ubuntu:terminal',
          display_name: `c${containers.length}`,
        });
        expect(reg.status).toBe(201);
        containers.push({ id: reg.body.container_id, token: reg.body.token, project, deleted: false });
      } else {
        const c = pick(live);
        const post = (event: object) => g.post('/collab/event', { event, project_id: c.project }, c.token);
        if (roll < 0.3) expect((await call(g.url, 'GET', '/collab/vpn-config', c.token)).status).toBe(200);
        else if (roll < 0.6)
          expect(
            (await post({ type: 'user-container:map-http-service', name: pick(SERVICES), port: 7000 + Math.floor(rnd() * 50) })).status,
          ).toBeLessThan(300);
        else if (roll < 0.72)
          expect((await post({ type: 'user-container:unmap-http-service', name: pick(SERVICES) })).status).toBeLessThan(300);
        else if (roll < 0.95)
          expect((await post({ type: 'user-container:watchdog', system: { cpu: { usage: '0.40, 0.43 ' } } })).status).toBe(202);
        else {
          expect((await call(g.url, 'DELETE', `/onboarding/containers/${c.id}`, operator(), {})).status).toBe(200);
          c.deleted = true;
        }
      }
      snapshots.push(await photograph());
    }

    const ours = (rows: Record<string, unknown>[]) => rows.filter((r) => r.org_id === org);
    // The log is not trivial: routes came and went, some of them with a VPN address.
    expect(new Set(snapshots.map((s) => JSON.stringify(ours(s.routes)))).size).toBeGreaterThan(3);
    expect(snapshots.some((s) => ours(s.routes).some((r) => r.vpn_address))).toBe(true);
    for (const s of snapshots) {
      const answer = await get(`/routes?at=${s.position}&org=${org}&limit=1000`);
      expect(answer.status).toBe(200);
      expect(answer.body.at.position).toBe(s.position);
      expect(answer.body.items).toEqual(ours(s.routes));
      for (const h of s.health.filter((x) => containers.some((c) => c.id === x.container_id))) {
        const one = await get(`/containers/${h.container_id}?at=${s.position}`);
        expect(one.status).toBe(200);
        expect({
          container_id: one.body.container_id,
          status: one.body.status,
          deleted: one.body.deleted,
          watchdogs: one.body.watchdogs,
          last_watchdog_at: one.body.last_watchdog_at,
        }).toEqual(h);
      }
    }

    // The difference between two moments is the difference of the photographs.
    const [a, b] = [snapshots[Math.floor(snapshots.length / 3)]!, snapshots[snapshots.length - 1]!];
    const diff = await get(`/routes/diff?from=${a.position}&to=${b.position}&org=${org}`);
    expect(diff.status).toBe(200);
    const fqdns = (rows: Record<string, unknown>[]) => new Set(ours(rows).map((r) => r.fqdn as string));
    const [before, after] = [fqdns(a.routes), fqdns(b.routes)];
    expect(diff.body.added.map((r: { fqdn: string }) => r.fqdn).sort()).toEqual([...after].filter((f) => !before.has(f)).sort());
    expect(diff.body.removed.map((r: { fqdn: string }) => r.fqdn).sort()).toEqual([...before].filter((f) => !after.has(f)).sort());
    const changed = ours(b.routes).filter(
      (r) => before.has(r.fqdn as string) && JSON.stringify(r) !== JSON.stringify(ours(a.routes).find((x) => x.fqdn === r.fqdn)),
    );
    expect(diff.body.changed.map((c: { fqdn: string }) => c.fqdn).sort()).toEqual(changed.map((r) => r.fqdn).sort());

    // A time stands for the newest event recorded by then: now is the last photograph.
    const now = await get(`/routes?at=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&org=${org}&limit=1000`);
    expect(now.body.items).toEqual(ours(b.routes));
  });

  it('refuses a moment that is neither a position nor a time, and one before the log, naming the field', async () => {
    const bad = await get('/routes?at=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('at');
    const early = await get('/routes?at=1970-01-01T00:00:00Z');
    expect(early.status).toBe(404);
    expect(early.body.errors).toEqual([{ field: 'at', message: 'is before the first event' }]);
    const container = await get(`/containers/${randomUUID()}?at=abc`);
    expect([container.status, container.body.field]).toEqual([400, 'at']);
    const diff = await get('/routes/diff?from=1');
    expect([diff.status, diff.body.field]).toEqual([400, 'to']);
  });
});
