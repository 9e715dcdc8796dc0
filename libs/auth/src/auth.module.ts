import { Controller, Get, Global, Header, Inject, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '@app/config';
import { TokenKeys } from './keys';
import { TokenService } from './token.service';
import { JwtStrategy } from './jwt.strategy';
import { JwtAuthGuard } from './auth.guard';
import { VerifiedTokenCache } from './verified-tokens';

export function tokenKeysFor(config: Pick<AppConfig, 'env' | 'dataDir' | 'jwt'>): TokenKeys {
  return TokenKeys.fromSettings({
    env: config.env,
    dataDir: config.dataDir,
    privateJwks: config.jwt.privateJwks,
    publicJwks: config.jwt.publicJwks,
    activeKid: config.jwt.activeKid,
    legacyHs256Json: config.jwt.keysJson,
    acceptHs256: config.jwt.acceptHs256,
  });
}

export function tokenServiceFor(config: Pick<AppConfig, 'env' | 'dataDir' | 'jwt'>): TokenService {
  return new TokenService(tokenKeysFor(config), {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    clockToleranceS: config.jwt.clockToleranceS,
  });
}

/** The public keys that verify this platform's tokens (no secrets, no private parts), for other services. */
@ApiTags('auth')
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(TokenService) private readonly tokens: TokenService) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Token verification keys (ES256 JWKS with kid; retiring keys carry retire_at)' })
  jwks(): { keys: Record<string, unknown>[] } {
    return this.tokens.keys.publicJwks();
  }
}

@Global()
@Module({
  imports: [PassportModule.register({ session: false })],
  controllers: [JwksController],
  providers: [
    { provide: TokenService, inject: [APP_CONFIG], useFactory: tokenServiceFor },
    { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache() },
    JwtStrategy,
    JwtAuthGuard,
  ],
  exports: [TokenService, JwtAuthGuard, VerifiedTokenCache],
})
export class AuthModule {}
