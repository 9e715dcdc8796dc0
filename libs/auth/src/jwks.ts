import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '@app/config';

export const KID = /^[A-Za-z0-9._-]{1,64}$/;

/** A key of a JWKS setting, parsed: the KeyObject, and for public keys when it stops verifying. */
export interface ParsedJwk {
  kid: string;
  key: KeyObject;
  /** Epoch ms after which tokens under this kid are refused (the end of a rotation's overlap). */
  retireAt?: number;
}

const fail = (variable: string, message: string) => new ConfigError([{ variable, message }]);

function keysOf(json: string, variable: string, shape: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = null;
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.length) throw fail(variable, `must be JSON {"keys":[${shape}, ...]}`);
  return keys as Record<string, unknown>[];
}

function checkEc(jwk: Record<string, unknown>, variable: string): string {
  const kid = jwk.kid;
  if (typeof kid !== 'string' || !KID.test(kid)) throw fail(variable, `every key needs a kid matching ${KID}`);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw fail(variable, `key "${kid}" must be an EC P-256 key (ES256)`);
  if (jwk.alg !== undefined && jwk.alg !== 'ES256') throw fail(variable, `key "${kid}" has alg ${String(jwk.alg)}; only ES256 is used`);
  return kid;
}

function retireAtOf(jwk: Record<string, unknown>, kid: string, variable: string): number | undefined {
  if (jwk.retire_at === undefined) return undefined;
  const t = typeof jwk.retire_at === 'number' ? jwk.retire_at * 1000 : Date.parse(String(jwk.retire_at));
  if (!Number.isFinite(t)) throw fail(variable, `key "${kid}": retire_at must be an ISO time or epoch seconds`);
  return t;
}

/** JWT_PRIVATE_JWKS: private EC P-256 JWKs (with `d`), each with a kid. */
export function parsePrivateJwks(json: string, variable = 'JWT_PRIVATE_JWKS'): ParsedJwk[] {
  return keysOf(json, variable, '<private EC P-256 JWK>').map((jwk) => {
    const kid = checkEc(jwk, variable);
    if (typeof jwk.d !== 'string') throw fail(variable, `key "${kid}" is not a private key (no "d")`);
    try {
      return { kid, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) };
    } catch (err) {
      throw fail(variable, `key "${kid}" does not load: ${(err as Error).message}`);
    }
  });
}

/** JWT_PUBLIC_JWKS: public EC P-256 JWKs; a private part is refused (verifiers hold public keys only). */
export function parsePublicJwks(json: string, variable = 'JWT_PUBLIC_JWKS'): ParsedJwk[] {
  return keysOf(json, variable, '<public EC P-256 JWK>').map((jwk) => {
    const kid = checkEc(jwk, variable);
    if (jwk.d !== undefined) throw fail(variable, `key "${kid}" holds a private part ("d"): verifying processes get public keys only`);
    try {
      return { kid, key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), retireAt: retireAtOf(jwk, kid, variable) };
    } catch (err) {
      throw fail(variable, `key "${kid}" does not load: ${(err as Error).message}`);
    }
  });
}

/** The public JWK of a key, as served at /.well-known/jwks.json and written into JWT_PUBLIC_JWKS. */
export function publicJwk(kid: string, key: KeyObject, retireAt?: number): Record<string, unknown> {
  const { kty, crv, x, y } = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  const jwk: Record<string, unknown> = { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' };
  if (retireAt !== undefined) jwk.retire_at = new Date(retireAt).toISOString();
  return jwk;
}

/** A fresh ES256 signing key as a private JWK. */
export function newPrivateJwk(kid: string): Record<string, unknown> {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

export const newKid = (now = new Date()) => `es256-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
