import {
  applyDecorators,
  ExecutionContext,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
  UseGuards,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiBearerAuth } from '@nestjs/swagger';
import { AppError, AuthenticationError, ForbiddenError } from '@app/common';
import type { Principal, Role } from './principal';
import { headerOf, tokenFromHeader } from './jwt.strategy';
import { TokenService } from './token.service';
import { VerifiedTokenCache } from './verified-tokens';
import { TOKEN_VERSIONS, type TokenVersionSource } from './token-versions';
import { APP_CONFIG, type AppConfig } from '@app/config';

const ROLES_KEY = 'collab:roles';

/**
 * Verifies the token (passport-jwt through JwtStrategy, or the cache of tokens it already
 * verified) and then the role the route allows.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    @Inject(VerifiedTokenCache) private readonly cache: VerifiedTokenCache,
    @Optional() @Inject(TOKEN_VERSIONS) private readonly versions?: TokenVersionSource,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
    @Optional() @Inject(TokenService) private readonly tokens?: TokenService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest();
    const token = tokenFromHeader(req);
    const cached = token ? this.cache.get(token) : undefined;
    if (cached) {
      req.user = this.authorize(cached, context);
    } else {
      if (!(await super.canActivate(context))) return false;
      // A cached token never outlives its key: a kid retired after the rotation's overlap stops at once.
      if (token) this.cache.set(token, req.user as Principal, Date.now(), this.retireAtOf(token));
    }
    await this.checkRevocation(req.user as Principal);
    return true;
  }

  private retireAtOf(token: string): number | undefined {
    const found = this.tokens?.keys.lookup(headerOf(token).kid, headerOf(token).alg);
    return found && 'key' in found ? found.key.retireAt : undefined;
  }

  /** Every request, cached token or not: a rotated or deleted container's token stops at once. */
  private async checkRevocation(principal: Principal): Promise<void> {
    if (principal.role !== 'container' || !this.versions) return;
    const allowUnregistered = this.config?.auth.allowUnregisteredContainers ?? false;
    // Memory answers almost always. The database answers while the feed is catching up, and for a
    // container memory does not know yet: one registered a moment ago through another gateway
    // process, whose notification is still on its way.
    let verdict = this.versions.check(principal.subject, principal.tokenVersion);
    if (verdict === undefined || (verdict === 'unregistered' && !allowUnregistered)) {
      verdict = await this.versions.checkFromDatabase(principal.subject, principal.tokenVersion);
    }
    if (verdict === 'ok' || (verdict === 'unregistered' && allowUnregistered)) return;
    throw new AuthenticationError(
      verdict === 'deleted'
        ? 'token revoked: the container was deleted'
        : verdict === 'revoked'
          ? 'token revoked: a newer token was issued'
          : 'token of an unknown container',
    );
  }

  override handleRequest<T = Principal>(err: unknown, user: T | false, info: unknown, context: ExecutionContext): T {
    if (err instanceof AppError) throw err;
    if (err || !user) throw new AuthenticationError(describe(info ?? err));
    return this.authorize(user as unknown as Principal, context) as unknown as T;
  }

  private authorize(principal: Principal, context: ExecutionContext): Principal {
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (allowed && !allowed.includes(principal.role)) {
      throw ForbiddenError.of('authorization', `a ${principal.role} token may not use this endpoint`);
    }
    return principal;
  }
}

function describe(info: unknown): string {
  if (info instanceof Error) {
    if (info.name === 'TokenExpiredError') return 'token expired';
    if (info.message === 'No auth token') return 'missing or malformed Authorization header';
    return info.message.replace(/^jwt /, 'token ');
  }
  return 'invalid token';
}

/** Restricts a route (or controller) to tokens of the given roles. */
export function Auth(...roles: Role[]) {
  return applyDecorators(SetMetadata(ROLES_KEY, roles), UseGuards(JwtAuthGuard), ApiBearerAuth());
}

/** The verified principal of the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest().user as Principal;
});
