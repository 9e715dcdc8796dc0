import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TOKEN_ALGORITHM, type TokenKeys } from './keys';
import type { TokenClaims } from './principal';

/** @deprecated the name of before; tokens are ES256 now (TOKEN_ALGORITHM). */
export const JWT_ALGORITHM = TOKEN_ALGORITHM;

export interface TokenSettings {
  issuer: string;
  audience: string;
  clockToleranceS: number;
}

/**
 * Issues ES256 tokens with the active private key; the `kid` header tells verifiers which public
 * key to use. Only a process configured with JWT_PRIVATE_JWKS can sign (see TokenKeys.signer).
 */
export class TokenService {
  constructor(
    readonly keys: TokenKeys,
    readonly settings: TokenSettings,
  ) {}

  get canSign(): boolean {
    return this.keys.canSign;
  }

  sign(claims: TokenClaims, ttlSeconds: number): string {
    const { kid, key } = this.keys.signer;
    const { sub, ...rest } = claims;
    return jwt.sign(rest, key, {
      algorithm: TOKEN_ALGORITHM,
      keyid: kid,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: sub,
      expiresIn: ttlSeconds,
      jwtid: randomUUID(),
    });
  }
}
