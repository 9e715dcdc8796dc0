import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SigningKeys } from './keys';
import { TokenService } from './token.service';
import { JwtStrategy } from './jwt.strategy';
import { JwtAuthGuard } from './auth.guard';
import { VerifiedTokenCache } from './verified-tokens';

export function signingKeysFor(config: AppConfig): SigningKeys {
  return config.jwt.keysJson
    ? SigningKeys.fromJson(config.jwt.keysJson, config.jwt.activeKid)
    : SigningKeys.developmentKeys(config.dataDir);
}

export function tokenServiceFor(config: AppConfig): TokenService {
  return new TokenService(signingKeysFor(config), {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    clockToleranceS: config.jwt.clockToleranceS,
  });
}

@Global()
@Module({
  imports: [PassportModule.register({ session: false })],
  providers: [
    { provide: TokenService, inject: [APP_CONFIG], useFactory: tokenServiceFor },
    { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache() },
    JwtStrategy,
    JwtAuthGuard,
  ],
  exports: [TokenService, JwtAuthGuard, VerifiedTokenCache],
})
export class AuthModule {}
