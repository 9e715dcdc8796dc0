import { eventually, startStack } from '../support/stack';

jest.setTimeout(60_000);

const SETTINGS = {
  HEALTH_WATCHDOG_INTERVAL_MS: '500',
  HEALTH_STALE_AFTER_INTERVALS: '2',
  HEALTH_OFFLINE_GRACE_MS: '2500',
  HEALTH_SWEEP_EVERY_MS: '150',
  HEALTH_OUTAGE_MIN_CONTAINERS: '3',
  PROJECTION_POLL_MS: '20',
  PROJECTION_LEASE_MS: '1000',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const watchdog = (projectId: string) => ({ project_id: projectId, event: { type: 'user-container:watchdog', system: {} } });

type Stack = Awaited<ReturnType<typeof startStack>>;

/** Containers that keep sending watchdogs every 150 ms until stopped (errors ignored: the gateway may be down). */
function heartbeat(stack: Stack, containers: { token: string; projectId: string }[]) {
  let on = true;
  const loop = (async () => {
    while (on) {
      await Promise.all(containers.map((c) => stack.post('/collab/event', watchdog(c.projectId), c.token).catch(() => undefined)));
      await sleep(150);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

async function statuses(stack: Stack, ids: string[]) {
  const { rows } = await stack.pool.query(`SELECT container_id, status FROM container_health WHERE container_id = ANY($1::uuid[])`, [ids]);
  return Object.fromEntries(rows.map((r) => [r.container_id, r.status]));
}

async function lapsesFor(stack: Stack, ids: string[]) {
  const { rows } = await stack.pool.query(
    `SELECT data->>'container_id' AS id, data->>'status' AS status, metadata->>'received_at' AS at FROM events
      WHERE event_type = 'user-container:health-lapsed' AND data->>'container_id' = ANY($1::text[]) ORDER BY global_position`,
    [ids],
  );
  return rows as { id: string; status: string; at: string }[];
}

describe('a gateway restart does not mark every container dead', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('health_restart', SETTINGS);
    await stack.startGateway();
    await stack.startWorker();
  });
  afterAll(async () => stack?.close());

  it('silence while no gateway was listening is not blamed on the containers; a container that stays silent lapses, counted from the restart', async () => {
    const alive = [stack.container(), stack.container(), stack.container()];
    const dies = stack.container();
    const ids = [...alive, dies].map((c) => c.containerId);
    const stopAll = heartbeat(stack, [...alive, dies]);
    await eventually(async () => Object.values(await statuses(stack, ids)).filter((s) => s === 'healthy').length === 4);
    await stopAll();

    await stack.stopGateway(); // the projector releases its lease; ingest is gone
    await sleep(3_500); // longer than the offline grace: the worker keeps sweeping meanwhile
    await stack.startGateway();
    const restartedAt = Date.now();
    const stopAlive = heartbeat(stack, alive);
    await sleep(400);
    expect(await lapsesFor(stack, ids)).toEqual([]);

    // The one that really died: stale two intervals after the restart, offline after the grace.
    await eventually(async () => (await statuses(stack, [dies.containerId]))[dies.containerId] === 'offline', 10_000);
    const lapses = await lapsesFor(stack, ids);
    expect(lapses.map((l) => [l.id, l.status])).toEqual([
      [dies.containerId, 'stale'],
      [dies.containerId, 'offline'],
    ]);
    expect(Date.parse(lapses[1].at) - restartedAt).toBeGreaterThanOrEqual(2_500 - 500);
    const now = await statuses(stack, ids);
    for (const c of alive) expect(now[c.containerId]).toBe('healthy');
    await stopAlive();
  });
});

describe('an ingest outage does not mark every container dead', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('health_outage', SETTINGS);
    await stack.startGateway();
    await stack.startWorker();
  });
  afterAll(async () => stack?.close());

  it('fleet-wide silence is taken for an outage; afterwards only the container that stays silent lapses', async () => {
    const fleet = [stack.container(), stack.container(), stack.container(), stack.container()];
    const ids = fleet.map((c) => c.containerId);
    const stopAll = heartbeat(stack, fleet);
    await eventually(async () => Object.values(await statuses(stack, ids)).filter((s) => s === 'healthy').length === 4);
    await stopAll();
    await sleep(3_500); // nothing arrives from anyone (network between containers and gateway down)
    expect(await lapsesFor(stack, ids)).toEqual([]);
    const resumed = fleet.slice(0, 3);
    const stop = heartbeat(stack, resumed);
    await eventually(async () => (await statuses(stack, [fleet[3].containerId]))[fleet[3].containerId] === 'offline', 10_000);
    const now = await statuses(stack, ids);
    for (const c of resumed) expect(now[c.containerId]).toBe('healthy');
    expect((await lapsesFor(stack, ids)).map((l) => l.id)).toEqual([fleet[3].containerId, fleet[3].containerId]);
    await stop();
  });
});
