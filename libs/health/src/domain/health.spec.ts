import { parseStats, type RawSystem, type WatchdogData } from '@app/container-events';
import { evolveHealth, foldWatchdog, HealthEvent, HealthRow, sampleOfSystem, statsAndServices } from './health';
import { decideLapses, looksLikeIngestOutage } from './lapses';

const C = {
  container_id: '00000000-0000-4000-8000-000000000001',
  org_id: '00000000-0000-4000-8000-0000000000aa',
  project_id: '00000000-0000-4000-8000-0000000000bb',
};
let pos = 0;
const ev = (type: string, data: object, at: string): HealthEvent => ({
  type,
  data: { ...C, ...data },
  metadata: { received_at: at },
  recordedAt: new Date(at),
  globalPosition: String(++pos),
});
const fold = (events: HealthEvent[]) => events.reduce<HealthRow | undefined>((row, e) => evolveHealth(row, e), undefined);

describe('evolveHealth', () => {
  it('starts on registration, becomes healthy on a watchdog, degraded when a service is unhealthy', () => {
    const row = fold([
      ev('user-container:registered', { display_name: 'nb', gateway_node: 'gw-1' }, '2026-01-01T00:00:00.000Z'),
      ev('user-container:watchdog', { system: { cpu: { usage: '0.40, 0.43 ' } } }, '2026-01-01T00:00:10.000Z'),
    ])!;
    expect(row).toMatchObject({
      status: 'healthy',
      gateway_node: 'gw-1',
      last_watchdog_at: '2026-01-01T00:00:10.000Z',
      status_since: '2026-01-01T00:00:10.000Z',
    });
    expect(row.stats?.cpu.load1).toBe(0.4);
    const degraded = evolveHealth(
      row,
      ev('user-container:watchdog', { system: {}, services: [{ name: 'jupyter', healthy: false }] }, '2026-01-01T00:00:25.000Z'),
    )!;
    expect(degraded.status).toBe('degraded');
  });

  it('applies a lapse only when no watchdog arrived after the sweeper looked; the next watchdog restores', () => {
    const seen = '2026-01-01T00:00:10.000Z';
    const base = fold([ev('user-container:watchdog', { system: {} }, seen)]);
    const stale = evolveHealth(
      base,
      ev('user-container:health-lapsed', { status: 'stale', last_seen_at: seen }, '2026-01-01T00:00:41.000Z'),
    )!;
    expect(stale.status).toBe('stale');
    const offline = evolveHealth(
      stale,
      ev('user-container:health-lapsed', { status: 'offline', last_seen_at: seen }, '2026-01-01T00:05:11.000Z'),
    )!;
    expect(offline.status).toBe('offline');
    // A stale lapse never takes an offline container back to stale.
    expect(
      evolveHealth(offline, ev('user-container:health-lapsed', { status: 'stale', last_seen_at: seen }, '2026-01-01T00:05:12.000Z')),
    ).toBe(offline);
    expect(evolveHealth(offline, ev('user-container:watchdog', { system: {} }, '2026-01-01T00:06:00.000Z'))!.status).toBe('healthy');
    // A lapse decided on an older watchdog than the newest one is out of date.
    const fresh = evolveHealth(base, ev('user-container:watchdog', { system: {} }, '2026-01-01T00:00:40.000Z'));
    expect(
      evolveHealth(fresh, ev('user-container:health-lapsed', { status: 'stale', last_seen_at: seen }, '2026-01-01T00:00:41.000Z')),
    ).toBe(fresh);
  });

  it('a late packet counts but does not move the last watchdog back; deleted containers stay offline', () => {
    const row = fold([ev('user-container:watchdog', { system: { cpu: { usage: '1' } } }, '2026-01-01T00:01:00.000Z')]);
    const late = evolveHealth(row, ev('user-container:watchdog', { system: { cpu: { usage: '9' } } }, '2026-01-01T00:00:30.000Z'))!;
    expect(late).toMatchObject({ last_watchdog_at: '2026-01-01T00:01:00.000Z', watchdogs: 2 });
    expect(late.stats?.cpu.load1).toBe(1);
    const deleted = evolveHealth(late, ev('user-container:deleted', {}, '2026-01-01T00:02:00.000Z'))!;
    expect(deleted).toMatchObject({ deleted: true, status: 'offline' });
    expect(evolveHealth(deleted, ev('user-container:watchdog', { system: {} }, '2026-01-01T00:03:00.000Z'))).toBe(deleted);
  });
});

describe('decideLapses', () => {
  const t = (s: number) => Date.parse('2026-01-01T00:00:00Z') + s * 1000;
  const cand = (status: 'healthy' | 'stale', lastS: number) => ({ ...C, status, last_watchdog_at: new Date(t(lastS)).toISOString() });
  const settings = { staleMs: 30_000, offlineMs: 300_000 };

  it('stale after two missed intervals, offline after the grace', () => {
    expect(decideLapses([cand('healthy', 0)], t(29), 0, settings)).toEqual([]);
    expect(decideLapses([cand('healthy', 0)], t(30), 0, settings).map((l) => l.status)).toEqual(['stale']);
    expect(decideLapses([cand('stale', 0)], t(299), 0, settings)).toEqual([]);
    expect(decideLapses([cand('stale', 0)], t(300), 0, settings).map((l) => l.status)).toEqual(['offline']);
    expect(decideLapses([cand('healthy', 0)], t(400), 0, settings).map((l) => l.status)).toEqual(['offline']);
  });

  it('counts silence from when the gateway was listening again', () => {
    expect(decideLapses([cand('healthy', 0)], t(400), t(390), settings)).toEqual([]);
    expect(decideLapses([cand('healthy', 0)], t(420), t(390), settings).map((l) => l.status)).toEqual(['stale']);
  });

  it('takes fleet-wide silence for an outage only with enough containers', () => {
    const fleet = [cand('healthy', 0), cand('healthy', 1), cand('healthy', 2)];
    expect(looksLikeIngestOutage(fleet, t(60), 30_000, 3)).toBe(true);
    expect(looksLikeIngestOutage(fleet, t(60), 30_000, 4)).toBe(false);
    expect(looksLikeIngestOutage([...fleet.slice(0, 2), cand('healthy', 50)], t(60), 30_000, 3)).toBe(false);
  });
});

describe('the batch fold helpers give what evolveHealth and parseStats give', () => {
  const systems: RawSystem[] = [
    {},
    { cpu: { usage: '0.40, 0.43 ' }, memory: { free: '1024', total: '8192' }, disk: { usage: '23.00%' } },
    {
      cpu: { usage: ' ,, 1.5 2 3' },
      memory: { free: 'x', total: '8' },
      network: { ping_time: 'rtt min/avg/max/mdev = 0.041/0.052/0.063/0.010 ms' },
    },
    { cpu: { usage: 'abc 1' }, memory: { free: 9, total: 8 }, disk: { usage: 101 }, network: { ping_time: '12.3 ms' } },
    { cpu: { usage: 0.7 }, memory: { free: ' 2 ', total: 4 }, disk: { usage: '5' } },
    { cpu: { usage: '' }, network: { ping_time: ' ms' } },
    { cpu: { usage: null } },
  ];

  it('sampleOfSystem: the stats history numbers of parseStats', () => {
    for (const system of systems) {
      const s = parseStats(system);
      expect(sampleOfSystem(system)).toEqual({
        load1: s.cpu.load1,
        memUsed: s.memory.usedRatio,
        diskUsed: s.disk.usedRatio,
        pingMs: s.network.pingMs,
      });
    }
  });

  it('foldWatchdog on a copy, then statsAndServices of the last watchdog taken: the rows of evolveHealth', () => {
    const times = ['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:25.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z'];
    const watchdogs = times.map((at, i) =>
      ev(
        'user-container:watchdog',
        {
          system: systems[i + 1],
          services: i === 1 ? [{ name: 'jupyter', healthy: false, message: 'down' }] : [{ name: 'jupyter', healthy: true }],
        },
        at,
      ),
    );
    for (const start of [undefined, fold([ev('user-container:registered', { display_name: 'nb' }, '2026-01-01T00:00:00.000Z')])]) {
      let expected = start;
      let row = start ? { ...start } : undefined;
      let took: WatchdogData | undefined;
      for (const e of watchdogs) {
        expected = evolveHealth(expected, e);
        const out = foldWatchdog(row, e.data as WatchdogData, e.metadata!.received_at as string, e.globalPosition);
        row = out.row;
        if (out.took) took = e.data as WatchdogData;
        expect({ ...row!, ...statsAndServices(took!) }).toEqual(expected);
      }
    }
    const deleted = fold([
      ev('user-container:registered', {}, '2026-01-01T00:00:00.000Z'),
      ev('user-container:deleted', {}, '2026-01-01T00:00:05.000Z'),
    ])!;
    expect(foldWatchdog({ ...deleted }, watchdogs[0].data as WatchdogData, times[0], '99')).toMatchObject({ took: false, changed: false });
  });
});
