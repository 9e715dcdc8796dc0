import { actorText, ago, load, matches, percent, roleOf } from './format';

describe('dashboard formatting', () => {
  const now = Date.parse('2026-11-23T02:00:00Z');

  it('percentages and loads, with a dash for missing values', () => {
    expect(percent(0.234)).toBe('23 %');
    expect(percent(0.0183)).toBe('1.8 %');
    expect(percent(null)).toBe('–');
    expect(load(0.4, 2)).toBe('0.40 / 2 cores');
    expect(load(null)).toBe('–');
  });

  it('relative times', () => {
    expect(ago('2026-11-23T01:59:48Z', now)).toBe('12 s ago');
    expect(ago('2026-11-23T01:55:00Z', now)).toBe('5 min ago');
    expect(ago('2026-11-22T23:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-11-01T00:00:00Z', now)).toBe('2026-11-01 00:00 UTC');
    expect(ago(null, now)).toBe('never');
  });

  it('search matches every word in any field, ignoring case', () => {
    expect(matches('jup TERM', ['my terminal', 'jupyter'])).toBe(true);
    expect(matches('pgadmin', ['my terminal', null])).toBe(false);
    expect(matches('  ', ['x'])).toBe(true);
  });

  it('reads the role claim of a token, and nothing from garbage', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(roleOf(`${b64({ alg: 'HS256' })}.${b64({ role: 'viewer', org: 'x' })}.sig`)).toBe('viewer');
    expect(roleOf('not-a-token')).toBeNull();
    expect(roleOf('a.%%%.c')).toBeNull();
  });

  it('audit actors as words', () => {
    expect(actorText({ type: 'operator', id: 'alice' })).toBe('operator alice');
    expect(actorText({ type: 'system' })).toBe('system');
    expect(actorText('worker')).toBe('worker');
    expect(actorText(null)).toBe('');
  });
});
