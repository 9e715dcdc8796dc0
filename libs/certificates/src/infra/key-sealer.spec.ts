import { randomBytes } from 'node:crypto';
import { AesGcmKeySealer } from './key-sealer';

describe('AES-256-GCM key sealer', () => {
  const key = randomBytes(32);
  const sealer = new AesGcmKeySealer(key);
  const pem = Buffer.from('-----BEGIN PRIVATE KEY-----\nMIGH...\n-----END PRIVATE KEY-----\n');

  it('round-trips, never stores the plain text, and differs every time (random IV)', () => {
    const a = sealer.seal(pem, 'certificate:org-1');
    const b = sealer.seal(pem, 'certificate:org-1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('PRIVATE');
    expect(sealer.open(a, 'certificate:org-1').equals(pem)).toBe(true);
  });

  it('refuses another context, another key, and any altered byte', () => {
    const sealed = sealer.seal(pem, 'certificate:org-1');
    expect(() => sealer.open(sealed, 'certificate:org-2')).toThrow();
    expect(() => new AesGcmKeySealer(randomBytes(32)).open(sealed, 'certificate:org-1')).toThrow(/sealed with key/);
    const parts = sealed.split('.');
    parts[4] = parts[4].slice(0, -2) + (parts[4].endsWith('A') ? 'BB' : 'AA');
    expect(() => sealer.open(parts.join('.'), 'certificate:org-1')).toThrow();
    expect(() => new AesGcmKeySealer(randomBytes(16))).toThrow(/32 bytes/);
  });
});
