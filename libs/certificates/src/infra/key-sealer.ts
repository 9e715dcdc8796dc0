import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Private keys at rest. The certificates lib stores every private key (ACME account, certificates)
 * only through this interface, so another sealer (envelope encryption, a KMS) can replace the
 * AES-256-GCM one without touching the rest.
 */
export interface KeySealer {
  /** Seals `plain`; the answer is text safe to store in a column. */
  seal(plain: Buffer, context: string): string;
  /** Opens what `seal` produced for the same context; throws when it was altered or the key differs. */
  open(sealed: string, context: string): Buffer;
}

export const KEY_SEALER = Symbol('KEY_SEALER');

/**
 * AES-256-GCM with a 32-byte key from the environment (CERTS_KEY_ENCRYPTION_KEY). The context
 * (e.g. `certificate:org-<uuid>`) is bound as associated data, so a sealed key copied onto another
 * row does not open. Format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts); the key id is
 * the first 8 hex digits of sha256(key), so a wrong key is named as such.
 */
export class AesGcmKeySealer implements KeySealer {
  private readonly kid: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the key encryption key must be 32 bytes');
    this.kid = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  static fromBase64(b64: string): AesGcmKeySealer {
    return new AesGcmKeySealer(Buffer.from(b64, 'base64'));
  }

  seal(plain: Buffer, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return ['v1', this.kid, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Buffer {
    const [v, kid, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !ct) throw new Error('not a sealed key (v1)');
    if (kid !== this.kid) throw new Error(`sealed with key ${kid}, this process has key ${this.kid}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
  }
}
