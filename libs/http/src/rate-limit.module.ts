import { Global, Module } from '@nestjs/common';
import { RateLimitGuard, RateLimiter } from './rate-limit';

/** The shared limiter (Redis), for RateLimitGuard on any controller and for routes outside Nest. */
@Global()
@Module({ providers: [RateLimiter, RateLimitGuard], exports: [RateLimiter, RateLimitGuard] })
export class RateLimitModule {}
