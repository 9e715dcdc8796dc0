import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { type AppConfig, ConfigError } from '@app/config';

/**
 * The Ed25519 key that signs checkpoints and compactions: AUDIT_SIGNING_KEY, or in development
 * a key generated once and kept in DATA_DIR (like the development JWT keys), so restarts and
 * `ops verify` use the same one.
 */
export class AuditKeys {
  readonly keyId: string;
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
  ) {
    this.keyId = `ed25519:${createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16)}`;
  }

  static fromPem(pem: string): AuditKeys {
    const key = createPrivateKey(pem.replace(/\\n/g, '\n'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('AUDIT_SIGNING_KEY: must be an Ed25519 private key');
    return new AuditKeys(key, createPublicKey(key));
  }

  static forConfig(config: Pick<AppConfig, 'audit' | 'dataDir'> & Partial<Pick<AppConfig, 'env'>>): AuditKeys {
    if (config.audit.signingKeyPem) return AuditKeys.fromPem(config.audit.signingKeyPem);
    // Required where it is used (the worker's sealer, `ops verify|compact`), not on every process.
    if (config.env === 'production') throw new ConfigError([{ variable: 'AUDIT_SIGNING_KEY', message: 'is required in production' }]);
    const file = join(config.dataDir, 'audit-ed25519.pem');
    if (!existsSync(file)) {
      mkdirSync(config.dataDir, { recursive: true });
      const { privateKey } = generateKeyPairSync('ed25519');
      try {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err; // another process made it first
      }
    }
    chmodSync(file, 0o600);
    return AuditKeys.fromPem(readFileSync(file, 'utf8'));
  }

  sign(message: Buffer): Buffer {
    return sign(null, message, this.privateKey);
  }

  verify(message: Buffer, signature: Buffer): boolean {
    return verify(null, message, this.publicKey, signature);
  }
}
