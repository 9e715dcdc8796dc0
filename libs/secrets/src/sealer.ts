import { randomBytes } from 'node:crypto';
import { gcmOpen, gcmSeal, type KeyWrapper } from './kek';

const PREFIX = 'sealed:v1:';

/**
 * Envelope encryption of private keys at rest, the one place for it (VPN CA, server and client
 * keys, the OpenID provider's keys, the ACME account and certificate keys). Each value gets its
 * own random data key (AES-256-GCM); the data key is wrapped by the key-encryption key
 * (KeyWrapper: the environment's KEK, or a KMS). The `context` (e.g. `vpn_client_certs:<serial>`)
 * is bound into the ciphertext as additional data, so a sealed value copied into another row does
 * not open there.
 *
 * Stored form, one text value: `sealed:v1:<kek id>:<wrapped data key>:<ciphertext>` (base64url).
 * Rotating the KEK re-wraps the data key only (`rewrap`); the ciphertext stays.
 */
export class KeySealer {
  constructor(readonly wrapper: KeyWrapper) {}

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /** The KEK a sealed value is under (undefined for plaintext). */
  static kekOf(value: string): string | undefined {
    return KeySealer.isSealed(value) ? value.slice(PREFIX.length).split(':')[0] : undefined;
  }

  async seal(plaintext: string | Buffer, context: string): Promise<string> {
    const dataKey = randomBytes(32);
    const { kekId, wrapped } = await this.wrapper.wrap(dataKey);
    const body = gcmSeal(dataKey, Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'), aad(context));
    dataKey.fill(0);
    return `${PREFIX}${kekId}:${wrapped.toString('base64url')}:${body.toString('base64url')}`;
  }

  async openBytes(sealed: string, context: string): Promise<Buffer> {
    const { kekId, wrapped, body } = parse(sealed);
    const dataKey = await this.wrapper.unwrap(kekId, wrapped);
    try {
      return gcmOpen(dataKey, body, aad(context));
    } catch {
      throw new Error(`sealed value of ${context} does not open: altered, or copied from another row`);
    } finally {
      dataKey.fill(0);
    }
  }

  async open(sealed: string, context: string): Promise<string> {
    return (await this.openBytes(sealed, context)).toString('utf8');
  }

  /** True when the value is plaintext or under a KEK other than the active one. */
  isStale(value: string): boolean {
    return KeySealer.kekOf(value) !== this.wrapper.activeId;
  }

  /** The same value under the active KEK: plaintext is sealed, an old KEK's wrapping is replaced. */
  async reseal(value: string, context: string): Promise<string> {
    if (!KeySealer.isSealed(value)) return this.seal(value, context);
    const { kekId, wrapped, body } = parse(value);
    if (kekId === this.wrapper.activeId) return value;
    const dataKey = await this.wrapper.unwrap(kekId, wrapped);
    const rewrapped = await this.wrapper.wrap(dataKey);
    dataKey.fill(0);
    return `${PREFIX}${rewrapped.kekId}:${rewrapped.wrapped.toString('base64url')}:${body.toString('base64url')}`;
  }
}

const aad = (context: string) => Buffer.from(`collab-sealed:v1:${context}`);

function parse(sealed: string): { kekId: string; wrapped: Buffer; body: Buffer } {
  if (!KeySealer.isSealed(sealed)) throw new Error('not a sealed value (plaintext key in the database?)');
  const [kekId, wrapped, body] = sealed.slice(PREFIX.length).split(':');
  if (!kekId || !wrapped || !body) throw new Error('malformed sealed value');
  return { kekId, wrapped: Buffer.from(wrapped, 'base64url'), body: Buffer.from(body, 'base64url') };
}
