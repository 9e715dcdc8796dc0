import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** HS256 keys shorter than this are refused (RFC 7518 3.2 asks for at least the hash size). */
export const MIN_KEY_BYTES = 32;
const KID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The token signing keys, by `kid`, held as KeyObjects (a string secret makes jsonwebtoken's
 * verify ~40x slower). Several keys verify; the active one signs: rotate by adding a key, making
 * it active, and dropping the old one once its tokens have expired.
 */
export class SigningKeys {
  private constructor(
    private readonly keys: Map<string, KeyObject>,
    readonly activeKid: string,
  ) {}

  static fromJson(json: string, activeKid?: string): SigningKeys {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error('JWT_KEYS: must be a JSON object {"<kid>": "<base64 secret>"}');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('JWT_KEYS: must be a JSON object {"<kid>": "<base64 secret>"}');
    }
    const keys = new Map<string, KeyObject>();
    for (const [kid, secret] of Object.entries(parsed as Record<string, unknown>)) {
      if (!KID.test(kid)) throw new Error(`JWT_KEYS: kid "${kid}" must match ${KID}`);
      if (typeof secret !== 'string') throw new Error(`JWT_KEYS: key "${kid}" must be a base64 string`);
      const bytes = Buffer.from(secret, 'base64');
      if (bytes.length < MIN_KEY_BYTES) {
        throw new Error(`JWT_KEYS: key "${kid}" is ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are required`);
      }
      keys.set(kid, createSecretKey(bytes));
    }
    if (!keys.size) throw new Error('JWT_KEYS: no keys');
    const active = activeKid ?? [...keys.keys()].pop()!;
    if (!keys.has(active)) throw new Error(`JWT_ACTIVE_KID: "${active}" is not among JWT_KEYS`);
    return new SigningKeys(keys, active);
  }

  /** Development only: a key generated once and kept in dataDir, so restarts keep tokens valid. */
  static developmentKeys(dataDir: string): SigningKeys {
    const file = join(dataDir, 'jwt-keys.json');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      const kid = `dev-${new Date().toISOString().slice(0, 10)}`;
      writeFileSync(file, JSON.stringify({ [kid]: randomBytes(48).toString('base64') }), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    return SigningKeys.fromJson(readFileSync(file, 'utf8'));
  }

  get(kid: string): KeyObject | undefined {
    return this.keys.get(kid);
  }

  get active(): KeyObject {
    return this.keys.get(this.activeKid)!;
  }
}
