import { diffMapEntries, parseMapFile } from './render-diff';
import { renderMapFile } from './render-map';

describe('render diff (pure)', () => {
  it('reads back exactly the entries and hash renderMapFile wrote, not the hash map or extra blocks', () => {
    const pairs = [
      { host: 'b.example.test', value: '10.8.0.2:80' },
      { host: 'a.example.test', value: 'sso:10.8.0.3:8888' },
      { host: 'c.example.test', value: 'offline' },
    ];
    const file = renderMapFile('test', 'up', 'unknown', pairs, [], 'upstream gateway_a {\n    server 1.2.3.4:80;\n}\n');
    const parsed = parseMapFile(file.text);
    expect(parsed.hash).toBe(file.hash);
    expect([...parsed.entries].sort()).toEqual(pairs.map((p) => [p.host, p.value]).sort());
  });

  it('an empty or missing map has no entries', () => {
    expect(parseMapFile('').entries.size).toBe(0);
    expect(parseMapFile('').hash).toBeNull();
  });

  it('lists added, removed and changed entries by host name, and nothing for equal maps', () => {
    const served = new Map([
      ['b.t', '1'],
      ['a.t', '1'],
      ['z.t', 'offline'],
    ]);
    const next = new Map([
      ['a.t', '2'],
      ['c.t', '3'],
      ['b.t', '1'],
    ]);
    expect(diffMapEntries(served, next)).toEqual({
      added: [{ host: 'c.t', value: '3' }],
      removed: [{ host: 'z.t', value: 'offline' }],
      changed: [{ host: 'a.t', from: '1', to: '2' }],
    });
    expect(diffMapEntries(next, new Map(next))).toEqual({ added: [], removed: [], changed: [] });
  });
});
