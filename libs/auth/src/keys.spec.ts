import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKeys } from './keys';

describe('SigningKeys', () => {
  const key = (n: number) => randomBytes(n).toString('base64');

  it('holds KeyObjects by kid and signs with the active one', () => {
    const keys = SigningKeys.fromJson(JSON.stringify({ old: key(32), new: key(48) }), 'new');
    expect(keys.activeKid).toBe('new');
    expect(keys.get('old')?.type).toBe('secret');
    expect(keys.get('missing')).toBeUndefined();
  });

  it.each([
    ['short key', JSON.stringify({ a: key(16) }), /at least 32/],
    ['not JSON', 'nope', /JSON object/],
    ['bad kid', JSON.stringify({ 'a b': key(32) }), /kid/],
    ['empty', '{}', /no keys/],
  ])('refuses %s', (_w, json, msg) => expect(() => SigningKeys.fromJson(json)).toThrow(msg));

  it('refuses an active kid that is not a key', () => {
    expect(() => SigningKeys.fromJson(JSON.stringify({ a: key(32) }), 'b')).toThrow(/JWT_ACTIVE_KID/);
  });

  it('keeps a development key across restarts, readable by the owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const first = SigningKeys.developmentKeys(dir);
    const second = SigningKeys.developmentKeys(dir);
    expect(second.activeKid).toBe(first.activeKid);
    expect(second.active.export().equals(first.active.export())).toBe(true);
    expect(statSync(join(dir, 'jwt-keys.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'jwt-keys.json'), 'utf8'))).toHaveProperty(first.activeKid);
  });
});
