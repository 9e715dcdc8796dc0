import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKeyWrapper, newKekJson } from './kek';
import { KeySealer } from './sealer';

const ring = (o: Record<string, string>, active?: string) => new KeySealer(LocalKeyWrapper.fromJson(JSON.stringify(o), active));

describe('KeySealer (envelope encryption)', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

  it('seals with a fresh data key under the active KEK; the stored form holds no plaintext', async () => {
    const s = ring(newKekJson('k1'));
    const a = await s.seal(pem, 'vpn_ca:1');
    const b = await s.seal(pem, 'vpn_ca:1');
    expect(a).toMatch(/^sealed:v1:k1:[\w-]+:[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('PRIVATE KEY');
    expect(await s.open(a, 'vpn_ca:1')).toBe(pem);
  });

  it('binds the value to its row: a sealed key copied to another row does not open', async () => {
    const s = ring(newKekJson('k1'));
    const sealed = await s.seal(pem, 'vpn_client_certs:aa');
    await expect(s.open(sealed, 'vpn_client_certs:bb')).rejects.toThrow(/copied from another row/);
  });

  it('a wrong KEK or a missing one fails naming KEY_ENCRYPTION_KEYS', async () => {
    const sealed = await ring(newKekJson('k1')).seal(pem, 'x');
    await expect(ring(newKekJson('k1')).open(sealed, 'x')).rejects.toThrow(/KEY_ENCRYPTION_KEYS: key "k1" does not open/);
    await expect(ring(newKekJson('k2')).open(sealed, 'x')).rejects.toThrow(
      /KEY_ENCRYPTION_KEYS: keys in the database are sealed under "k1"/,
    );
  });

  it('a development key from another data directory says where it was generated and what to do', async () => {
    const [a, b] = ['a', 'b'].map((d) => mkdtempSync(join(tmpdir(), `kek-${d}-`)));
    try {
      const { kekId, wrapped } = await LocalKeyWrapper.development(a).wrap(randomBytes(32));
      const other = LocalKeyWrapper.development(b);
      // Both generated with today's id, different bytes: the other checkout's key.
      await expect(other.unwrap(kekId, wrapped)).rejects.toThrow(
        new RegExp(
          `does not open the keys sealed in the database .*development key generated in ${join(b, 'key-encryption-keys.json')}.*fresh database`,
        ),
      );
    } finally {
      for (const d of [a, b]) rmSync(d, { recursive: true, force: true });
    }
  });

  it('KEK rotation re-wraps the data key only; plaintext is sealed', async () => {
    const k1 = newKekJson('k1');
    const old = ring(k1);
    const sealed = await old.seal(pem, 'x');
    const both = ring({ ...k1, ...newKekJson('k2') }, 'k2');
    expect(both.isStale(sealed)).toBe(true);
    const moved = await both.reseal(sealed, 'x');
    expect(KeySealer.kekOf(moved)).toBe('k2');
    expect(moved.split(':').pop()).toBe(sealed.split(':').pop());
    expect(await both.open(moved, 'x')).toBe(pem);
    const fromPlain = await both.reseal(pem, 'x');
    expect(KeySealer.kekOf(fromPlain)).toBe('k2');
    expect(await both.open(fromPlain, 'x')).toBe(pem);
  });

  it.each([
    ['not JSON', 'nope', /must be a JSON object/],
    ['a short key', JSON.stringify({ k: randomBytes(16).toString('base64') }), /must be 32 bytes/],
    ['a bad id', JSON.stringify({ 'a b': randomBytes(32).toString('base64') }), /key id/],
  ])('refuses %s in KEY_ENCRYPTION_KEYS', (_w, json, msg) => {
    expect(() => LocalKeyWrapper.fromJson(json)).toThrow(/KEY_ENCRYPTION_KEYS/);
    expect(() => LocalKeyWrapper.fromJson(json)).toThrow(msg);
  });
});
