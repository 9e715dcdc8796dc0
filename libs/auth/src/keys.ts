import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { UnavailableError } from '@app/common';
import { KID, newKid, newPrivateJwk, parsePrivateJwks, parsePublicJwks, publicJwk } from './jwks';

/** HS256 keys shorter than this are refused (RFC 7518 3.2 asks for at least the hash size). */
export const MIN_KEY_BYTES = 32;
export const TOKEN_ALGORITHM = 'ES256' as const;
export const LEGACY_ALGORITHM = 'HS256' as const;
export type TokenAlgorithm = typeof TOKEN_ALGORITHM | typeof LEGACY_ALGORITHM;

/** A key that verifies, pinned to one algorithm. */
export interface VerificationKey {
  kid: string;
  alg: TokenAlgorithm;
  key: KeyObject;
  retireAt?: number;
}

export interface KeySettings {
  env: 'development' | 'production' | 'test';
  dataDir: string;
  privateJwks?: string;
  publicJwks?: string;
  activeKid?: string;
  /** JWT_KEYS, the HS256 secrets of before; used only while acceptHs256 (the migration window). */
  legacyHs256Json?: string;
  acceptHs256: boolean;
}

/**
 * Token keys by `kid`, as KeyObjects. Tokens are ES256: a process that issues tokens holds private
 * keys (JWT_PRIVATE_JWKS) and signs with the active one; every process verifies with public keys
 * (its own private keys' public halves and JWT_PUBLIC_JWKS). A public key may carry `retire_at`:
 * after it, tokens under that kid are refused (the end of a rotation's overlap). HS256 secrets
 * (JWT_KEYS) verify only while JWT_ACCEPT_HS256 is on, and never sign.
 */
export class TokenKeys {
  private constructor(
    private readonly verifying: Map<string, VerificationKey>,
    private readonly signing: { kid: string; key: KeyObject } | undefined,
    readonly algorithms: TokenAlgorithm[],
  ) {}

  static fromSettings(s: KeySettings): TokenKeys {
    let privateJson = s.privateJwks;
    if (!privateJson && !s.publicJwks) {
      if (s.env === 'production') {
        throw new ConfigError([
          { variable: 'JWT_PUBLIC_JWKS', message: 'is required in production (and JWT_PRIVATE_JWKS on a process that issues tokens)' },
        ]);
      }
      privateJson = TokenKeys.developmentJwks(s.dataDir);
    }
    const verifying = new Map<string, VerificationKey>();
    const privates = privateJson ? parsePrivateJwks(privateJson) : [];
    for (const p of privates) verifying.set(p.kid, { kid: p.kid, alg: TOKEN_ALGORITHM, key: createPublicKey(p.key) });
    for (const p of s.publicJwks ? parsePublicJwks(s.publicJwks) : []) {
      const own = verifying.get(p.kid);
      if (own && own.key.export({ format: 'jwk' }).x !== p.key.export({ format: 'jwk' }).x) {
        throw new ConfigError([{ variable: 'JWT_PUBLIC_JWKS', message: `key "${p.kid}" differs from the private key of that kid` }]);
      }
      verifying.set(p.kid, { kid: p.kid, alg: TOKEN_ALGORITHM, key: p.key, retireAt: p.retireAt });
    }
    const legacy = s.legacyHs256Json ? parseHs256(s.legacyHs256Json) : new Map<string, KeyObject>();
    if (s.acceptHs256) {
      for (const [kid, key] of legacy) {
        if (verifying.has(kid)) throw new ConfigError([{ variable: 'JWT_KEYS', message: `kid "${kid}" is also an ES256 key` }]);
        verifying.set(kid, { kid, alg: LEGACY_ALGORITHM, key });
      }
    }
    let signing: { kid: string; key: KeyObject } | undefined;
    if (privates.length) {
      const kid = s.activeKid ?? privates[privates.length - 1].kid;
      const p = privates.find((k) => k.kid === kid);
      if (!p) throw new ConfigError([{ variable: 'JWT_ACTIVE_KID', message: `"${kid}" is not among JWT_PRIVATE_JWKS` }]);
      const retireAt = verifying.get(kid)?.retireAt;
      if (retireAt !== undefined)
        throw new ConfigError([{ variable: 'JWT_ACTIVE_KID', message: `"${kid}" is retiring; sign with a new key` }]);
      signing = { kid, key: p.key };
    }
    const algorithms: TokenAlgorithm[] = s.acceptHs256 && legacy.size ? [TOKEN_ALGORITHM, LEGACY_ALGORITHM] : [TOKEN_ALGORITHM];
    return new TokenKeys(verifying, signing, algorithms);
  }

  /** Development and tests without keys: an ES256 key generated once and kept in dataDir (restarts keep tokens valid). */
  static developmentJwks(dataDir: string): string {
    const file = join(dataDir, 'jwt-private-jwks.json');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      try {
        writeFileSync(file, JSON.stringify({ keys: [newPrivateJwk(newKid())] }), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
    }
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8');
  }

  /** The key for a token's kid and alg, or why there is none. The algorithm is pinned per key. */
  lookup(kid: string | undefined, alg: string | undefined, now = Date.now()): { key: VerificationKey } | { reason: string } {
    if (!kid) return { reason: 'token has no key id' };
    const key = this.verifying.get(kid);
    if (!key) return { reason: `unknown key id "${kid}"` };
    if (alg !== key.alg) return { reason: `key "${kid}" verifies ${key.alg} only, not ${String(alg)}` };
    if (key.retireAt !== undefined && now >= key.retireAt)
      return { reason: `key "${kid}" was retired at ${new Date(key.retireAt).toISOString()}` };
    return { key };
  }

  get canSign(): boolean {
    return this.signing !== undefined;
  }

  get activeKid(): string | undefined {
    return this.signing?.kid;
  }

  /** The active private key; a process without one cannot issue tokens (503 naming the setting). */
  get signer(): { kid: string; key: KeyObject } {
    if (!this.signing) {
      throw new UnavailableError('this process holds no token signing key (JWT_PRIVATE_JWKS): tokens are issued by the platform API only');
    }
    return this.signing;
  }

  /** The public ES256 keys that verify now, as a JWKS (kid, alg, retire_at). Secrets are never listed. */
  publicJwks(now = Date.now()): { keys: Record<string, unknown>[] } {
    const keys = [...this.verifying.values()]
      .filter((k) => k.alg === TOKEN_ALGORITHM && (k.retireAt === undefined || now < k.retireAt))
      .map((k) => publicJwk(k.kid, k.key, k.retireAt));
    return { keys };
  }
}

/** JWT_KEYS of before: {"<kid>": "<base64 secret>"}, each at least 32 bytes. */
function parseHs256(json: string): Map<string, KeyObject> {
  const fail = (message: string) => new ConfigError([{ variable: 'JWT_KEYS', message }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('must be a JSON object {"<kid>": "<base64 secret>"}');
  const keys = new Map<string, KeyObject>();
  for (const [kid, secret] of Object.entries(parsed as Record<string, unknown>)) {
    if (!KID.test(kid)) throw fail(`kid "${kid}" must match ${KID}`);
    if (typeof secret !== 'string') throw fail(`key "${kid}" must be a base64 string`);
    const bytes = Buffer.from(secret, 'base64');
    if (bytes.length < MIN_KEY_BYTES) throw fail(`key "${kid}" is ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are required`);
    keys.set(kid, createSecretKey(bytes));
  }
  if (!keys.size) throw fail('no keys');
  return keys;
}
