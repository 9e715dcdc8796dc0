export { SigningKeys, MIN_KEY_BYTES } from './keys';
export { TokenService, JWT_ALGORITHM } from './token.service';
export type { TokenSettings } from './token.service';
export { JwtStrategy, tokenFromHeader, principalFromClaims } from './jwt.strategy';
export { JwtAuthGuard, Auth, CurrentPrincipal } from './auth.guard';
export { AuthModule, signingKeysFor, tokenServiceFor } from './auth.module';
export type { Principal, Role, TokenClaims } from './principal';
export { ROLES } from './principal';
export { VerifiedTokenCache } from './verified-tokens';
