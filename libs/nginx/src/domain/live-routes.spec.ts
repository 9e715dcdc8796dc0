import { deltaFor, liveEntries, SetHash, snapshotBody, deltaBody } from './live-routes';
import { renderStage2Conf } from './stage2-conf';

const c1 = '11111111-1111-4111-8111-111111111111';
const c2 = '22222222-2222-4222-8222-222222222222';

describe('live routes (pure)', () => {
  it('the set hash does not depend on order, and toggling an entry twice removes it', () => {
    const a = new Map([
      ['a.test', '127.0.0.1:80'],
      ['b.test', 'offline'],
    ]);
    const b = new Map([...a].reverse());
    expect(SetHash.of(a).hex()).toBe(SetHash.of(b).hex());
    const h = SetHash.of(a);
    h.toggle('c.test', 'sso:127.0.0.1:81');
    expect(h.hex()).not.toBe(SetHash.of(a).hex());
    h.toggle('c.test', 'sso:127.0.0.1:81');
    expect(h.hex()).toBe(SetHash.of(a).hex());
    expect(SetHash.fromHex(h.hex()).hex()).toBe(h.hex());
    // What nginx computes for the same two entries (live-lua.ts; checked against a real nginx in test/e2e).
    expect(
      SetHash.of(
        new Map([
          ['a.test', '127.0.0.1:18993'],
          ['b.test', 'offline'],
        ]),
      ).hex(),
    ).toBe('305bbb9f58d639aa778fd90f80c288ad');
  });

  it('keeps the first row of a host by name order and refuses what fails the final token check', () => {
    const skipped: { fqdn: string; reason: string }[] = [];
    const e = liveEntries(
      [
        { host: 'b.test', value: '127.0.0.1:80', containerId: c1 },
        { host: 'a.test', value: '127.0.0.1:81', containerId: c1 },
        { host: 'a.test', value: '127.0.0.1:82', containerId: c2 },
        { host: 'x.test', value: '1.2.3.4:80;evil', containerId: c2 },
      ],
      skipped,
    );
    expect([...e.entries]).toEqual([
      ['a.test', '127.0.0.1:81'],
      ['b.test', '127.0.0.1:80'],
    ]);
    expect(e.byContainer.get(c1)).toEqual(['a.test', 'b.test']);
    expect(e.byContainer.has(c2)).toBe(false);
    expect(skipped).toEqual([{ fqdn: 'x.test', reason: 'refused by the final token check' }]);
  });

  it('a delta sets what changed and deletes what went, for the named containers only', () => {
    const served = liveEntries([
      { host: 'a.test', value: '127.0.0.1:80', containerId: c1 },
      { host: 'b.test', value: '127.0.0.1:81', containerId: c1 },
      { host: 'c.test', value: '127.0.0.1:82', containerId: c2 },
    ]);
    const next = liveEntries([
      { host: 'a.test', value: '127.0.0.1:80', containerId: c1 },
      { host: 'd.test', value: 'offline', containerId: c1 },
    ]);
    const ops = deltaFor([c1], served, next);
    expect(ops).toEqual([
      { op: 'del', host: 'b.test' },
      { op: 'set', host: 'd.test', value: 'offline' },
    ]);
    expect(deltaBody(ops)).toBe('del b.test\nset d.test offline\n');
    expect(snapshotBody(next.entries)).toBe('a.test 127.0.0.1:80\nd.test offline\n');
    expect(deltaFor([c2], served, liveEntries([]))).toEqual([{ op: 'del', host: 'c.test' }]);
  });

  it('renders the lua module, the shared dict and a route channel on the unix socket only', () => {
    const layout = { mapPath: '/x/routes.map', listen: '0.0.0.0:8080', statusListen: '127.0.0.1:8081', runDir: '/x' };
    const plain = renderStage2Conf(layout);
    expect(plain).not.toMatch(/lua|load_module/);
    const live = renderStage2Conf({ ...layout, live: { socket: '/x/routes.sock' } });
    expect(
      live.startsWith(
        'load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n',
      ),
    ).toBe(true);
    expect(live).toContain('lua_shared_dict collab_routes 128m;');
    expect(live).toContain('set_by_lua_block $collab_route');
    expect(live).toContain('map $collab_route $collab_protected');
    // The channel's locations live in the server that listens on the socket, and only there.
    const servers = live.split(/\n {4}server \{/).slice(1);
    const channel = servers.filter((s) => s.includes('/routes/delta'));
    expect(channel).toHaveLength(1);
    expect(channel[0]).toMatch(/^\s*listen unix:\/x\/routes\.sock;/);
    expect(channel[0].match(/listen /g)).toHaveLength(1);
    expect(() => renderStage2Conf({ ...layout, live: { socket: 'relative.sock' } })).toThrow(/absolute/);
    expect(() => renderStage2Conf({ ...layout, live: { socket: '/x/a;b.sock' } })).toThrow(/absolute/);
  });
});
