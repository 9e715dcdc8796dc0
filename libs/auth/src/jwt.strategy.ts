import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { AuthenticationError } from '@app/common';
import { TokenService } from './token.service';
import { ROLES, type Principal, type Role } from './principal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The seed's container script sends `Authorization: <jwt>` without a scheme; accept that and `Bearer`. */
export function tokenFromHeader(req: { headers: Record<string, string | string[] | undefined> }): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || h.length > 4096) return null;
  const value = h.startsWith('Bearer ') ? h.slice(7).trim() : h.trim();
  return value.split('.').length === 3 ? value : null;
}

/** The protected header's kid and alg (not trusted: they only choose the key, whose algorithm is pinned). */
export function headerOf(token: string): { kid?: string; alg?: string } {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return { kid: typeof header.kid === 'string' ? header.kid : undefined, alg: typeof header.alg === 'string' ? header.alg : undefined };
  } catch {
    return {};
  }
}

/**
 * passport-jwt with the algorithm pinned per key (ES256 public keys; HS256 secrets only in the
 * migration window; never `none`, and a header whose alg is not its key's is refused before
 * jsonwebtoken sees it), `iss` and `aud` required, the key chosen by `kid` among KeyObjects
 * (unknown and retired kids refused), and `exp` required (jsonwebtoken alone accepts a token
 * without one).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(TokenService) tokens: TokenService) {
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: tokenFromHeader as StrategyOptionsWithoutRequest['jwtFromRequest'],
      secretOrKeyProvider: (_req: unknown, raw: string, done: (err: unknown, key?: unknown) => void) => {
        const { kid, alg } = headerOf(raw);
        const found = tokens.keys.lookup(kid, alg);
        if ('reason' in found) return done(new AuthenticationError(found.reason));
        done(null, found.key.key);
      },
      algorithms: tokens.keys.algorithms,
      issuer: tokens.settings.issuer,
      audience: tokens.settings.audience,
      jsonWebTokenOptions: { clockTolerance: tokens.settings.clockToleranceS },
    } as unknown as StrategyOptionsWithoutRequest;
    super(options);
  }

  /** Signature and claims only; revocation is checked by JwtAuthGuard on every request, cached or not. */
  validate(payload: Record<string, unknown>): Principal {
    return principalFromClaims(payload);
  }
}

export function principalFromClaims(p: Record<string, unknown>): Principal {
  if (typeof p.exp !== 'number') throw new AuthenticationError('token has no exp');
  if (!ROLES.includes(p.role as Role)) throw new AuthenticationError('token has no valid role');
  if (typeof p.sub !== 'string' || !p.sub) throw new AuthenticationError('token has no sub');
  const role = p.role as Role;
  const principal: Principal = {
    role,
    subject: p.sub,
    expiresAt: p.exp,
    tokenId: typeof p.jti === 'string' ? p.jti : undefined,
  };
  if (typeof p.org === 'string') principal.orgId = p.org;
  if (typeof p.project === 'string') principal.projectId = p.project;
  if (Array.isArray(p.projects) && p.projects.every((x) => typeof x === 'string')) principal.projectIds = p.projects as string[];
  if (typeof p.tv === 'number') principal.tokenVersion = p.tv;
  if (role === 'container') {
    if (!UUID.test(p.sub) || !principal.orgId || !UUID.test(principal.orgId) || !principal.projectId || !UUID.test(principal.projectId)) {
      throw new AuthenticationError('container token needs a UUID sub, org and project');
    }
  }
  if (role === 'viewer' && (!principal.orgId || !UUID.test(principal.orgId))) {
    throw new AuthenticationError('viewer token needs an org');
  }
  return principal;
}
