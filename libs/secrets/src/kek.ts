import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@app/config';

export const KEK_SETTING = 'KEY_ENCRYPTION_KEYS';
const KEK_ID = /^[A-Za-z0-9._-]{1,32}$/;
const KEK_BYTES = 32;

/**
 * Wraps and unwraps data-encryption keys with a key-encryption key. The local implementation holds
 * the KEKs from the environment; a KMS (Vault transit, AWS/GCP KMS) implements the same interface
 * and keeps its KEK out of the process altogether.
 */
export interface KeyWrapper {
  /** The KEK new data keys are wrapped with. */
  readonly activeId: string;
  has(kekId: string): boolean;
  wrap(dataKey: Buffer): Promise<{ kekId: string; wrapped: Buffer }>;
  /** Throws a ConfigError naming the setting when the KEK is unknown or is not the one that wrapped it. */
  unwrap(kekId: string, wrapped: Buffer): Promise<Buffer>;
}

/** AES-256-GCM under KEKs held in memory: `{"<id>": "<base64 of 32 bytes>"}`, the active one wraps. */
export class LocalKeyWrapper implements KeyWrapper {
  private constructor(
    private readonly keks: Map<string, Buffer>,
    readonly activeId: string,
    /** Where a development key was generated (said when it does not open the database's keys). */
    private readonly generatedIn?: string,
  ) {}

  static fromJson(json: string, activeId?: string, setting = KEK_SETTING, generatedIn?: string): LocalKeyWrapper {
    const fail = (message: string) => new ConfigError([{ variable: setting, message }]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = null;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw fail('must be a JSON object {"<id>": "<base64 of 32 bytes>"}');
    const keks = new Map<string, Buffer>();
    for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!KEK_ID.test(id)) throw fail(`key id "${id}" must match ${KEK_ID}`);
      const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
      if (bytes.length !== KEK_BYTES) throw fail(`key "${id}" must be ${KEK_BYTES} bytes in base64 (is ${bytes.length})`);
      keks.set(id, bytes);
    }
    if (!keks.size) throw fail('holds no key');
    const active = activeId ?? [...keks.keys()].pop()!;
    if (!keks.has(active))
      throw new ConfigError([{ variable: 'KEY_ENCRYPTION_ACTIVE_ID', message: `"${active}" is not among ${setting}` }]);
    return new LocalKeyWrapper(keks, active, generatedIn);
  }

  /** Development and tests: a KEK generated once and kept in dataDir, like the other development keys. */
  static development(dataDir: string): LocalKeyWrapper {
    const file = join(dataDir, 'key-encryption-keys.json');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      try {
        writeFileSync(file, JSON.stringify(newKekJson()), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err; // another process made it first
      }
    }
    chmodSync(file, 0o600);
    return LocalKeyWrapper.fromJson(readFileSync(file, 'utf8'), undefined, file, file);
  }

  has(kekId: string): boolean {
    return this.keks.has(kekId);
  }

  async wrap(dataKey: Buffer): Promise<{ kekId: string; wrapped: Buffer }> {
    return { kekId: this.activeId, wrapped: gcmSeal(this.keks.get(this.activeId)!, dataKey, aadOf(this.activeId)) };
  }

  async unwrap(kekId: string, wrapped: Buffer): Promise<Buffer> {
    const kek = this.keks.get(kekId);
    if (!kek) {
      throw new ConfigError([
        {
          variable: KEK_SETTING,
          message: `keys in the database are sealed under "${kekId}", which is not configured (keep an old key until rotation re-sealed everything)`,
        },
      ]);
    }
    try {
      return gcmOpen(kek, wrapped, aadOf(kekId));
    } catch {
      throw new ConfigError([
        {
          variable: KEK_SETTING,
          message: `key "${kekId}" does not open the keys sealed in the database (wrong key?)${
            this.generatedIn
              ? `; it is the development key generated in ${this.generatedIn}, and the database was set up with another` +
                ' (another checkout or data directory): use that one, or a fresh database'
              : ''
          }`,
        },
      ]);
    }
  }
}

/** A fresh KEK ring of one key, for `.env` files and development. */
export function newKekJson(id = `kek${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): Record<string, string> {
  return { [id]: randomBytes(KEK_BYTES).toString('base64') };
}

const aadOf = (kekId: string) => Buffer.from(`collab-kek:v1:${kekId}`);

/** AES-256-GCM: iv (12) | ciphertext | tag (16). */
export function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

export function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < 28) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}
