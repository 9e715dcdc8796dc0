import { createPublicKey } from 'node:crypto';
import { newKid, newPrivateJwk, parsePrivateJwks, parsePublicJwks, publicJwk } from './jwks';

export interface RotatedKeys {
  /** For the issuing processes: the new key only (old private keys are not needed to verify). */
  JWT_PRIVATE_JWKS: string;
  JWT_ACTIVE_KID: string;
  /** For every process: the new key, and the old ones until `retire_at` (now + overlap). */
  JWT_PUBLIC_JWKS: string;
}

/**
 * One rotation step: a new ES256 key signs; the keys that signed until now keep verifying for
 * `overlapS` (set it to the longest token lifetime, so no token issued before the rotation is cut
 * short), then their kid is refused. Keys whose overlap already ended are dropped.
 */
export function rotateTokenKeys(o: { privateJwks: string; publicJwks?: string; overlapS: number; now?: Date; kid?: string }): RotatedKeys {
  const now = o.now ?? new Date();
  const retireAt = now.getTime() + o.overlapS * 1000;
  const kid = o.kid ?? newKid(now);
  const fresh = newPrivateJwk(kid);
  const keys = new Map<string, Record<string, unknown>>();
  keys.set(kid, publicJwk(kid, createPublicKey({ key: fresh as never, format: 'jwk' })));
  for (const p of o.publicJwks ? parsePublicJwks(o.publicJwks) : []) {
    if (p.retireAt !== undefined && p.retireAt <= now.getTime()) continue;
    if (!keys.has(p.kid)) keys.set(p.kid, publicJwk(p.kid, p.key, p.retireAt ?? retireAt));
  }
  for (const p of parsePrivateJwks(o.privateJwks)) {
    const prev = keys.get(p.kid);
    const until = prev?.retire_at ? Math.min(Date.parse(String(prev.retire_at)), retireAt) : retireAt;
    if (p.kid !== kid) keys.set(p.kid, publicJwk(p.kid, p.key, until));
  }
  return {
    JWT_PRIVATE_JWKS: JSON.stringify({ keys: [fresh] }),
    JWT_ACTIVE_KID: kid,
    JWT_PUBLIC_JWKS: JSON.stringify({ keys: [...keys.values()] }),
  };
}
