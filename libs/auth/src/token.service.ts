import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SigningKeys } from './keys';
import type { TokenClaims } from './principal';

export const JWT_ALGORITHM = 'HS256' as const;

export interface TokenSettings {
  issuer: string;
  audience: string;
  clockToleranceS: number;
}

/** Issues tokens with the active key; the `kid` header tells verifiers which key to use. */
export class TokenService {
  constructor(
    readonly keys: SigningKeys,
    readonly settings: TokenSettings,
  ) {}

  sign(claims: TokenClaims, ttlSeconds: number): string {
    const { sub, ...rest } = claims;
    return jwt.sign(rest, this.keys.active, {
      algorithm: JWT_ALGORITHM,
      keyid: this.keys.activeKid,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: sub,
      expiresIn: ttlSeconds,
      jwtid: randomUUID(),
    });
  }
}
