import { Controller, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GuardService } from './guard.service';

/**
 * nginx's side of protected services (libs/nginx stage2-conf): /sso/check answers auth_request
 * subrequests; /sso/start, /sso/callback and /sso/logout are served on each service's own host under
 * /.collab-sso/. nginx names the service host in X-Collab-Host.
 */
@ApiExcludeController()
@Controller('sso')
export class GuardController {
  constructor(@Inject(GuardService) private readonly guard: GuardService) {}

  @Get('check')
  async check(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const r = await this.guard.check(req.headers['x-collab-host'], req.headers.cookie, req.headers['x-original-uri']);
    reply.header('cache-control', 'no-store');
    if (r.status === 401) reply.header('x-auth-redirect', r.redirect);
    if (r.status === 200) {
      reply
        .header('x-auth-user-id', r.user.id)
        .header('x-auth-user-email', r.user.email)
        .header('x-auth-user-name', encodeURIComponent(r.user.name));
    }
    reply.code(r.status).send();
  }

  // start, callback and logout write (pending sign-ins, sessions): a budget per source address.
  @Get('start')
  @UseGuards(RateLimitGuard)
  @RateLimit('anonymous')
  async start(@Req() req: FastifyRequest, @Query('rd') rd: unknown, @Res() reply: FastifyReply): Promise<void> {
    const r = await this.guard.start(req.headers['x-collab-host'], rd);
    reply.header('cache-control', 'no-store').header('set-cookie', r.setCookie).redirect(r.location, 302);
  }

  @Get('logout')
  @UseGuards(RateLimitGuard)
  @RateLimit('anonymous')
  async logout(@Req() req: FastifyRequest, @Query('rd') rd: unknown, @Res() reply: FastifyReply): Promise<void> {
    const r = await this.guard.logout(req.headers['x-collab-host'], req.headers.cookie, rd);
    reply.header('cache-control', 'no-store').header('set-cookie', r.setCookie).redirect(r.location, 302);
  }

  @Get('callback')
  @UseGuards(RateLimitGuard)
  @RateLimit('anonymous')
  async callback(@Req() req: FastifyRequest, @Query() query: Record<string, unknown>, @Res() reply: FastifyReply): Promise<void> {
    const r = await this.guard.callback(req.headers['x-collab-host'], req.headers.cookie, query);
    reply.header('cache-control', 'no-store').header('set-cookie', r.setCookies).redirect(r.location, 302);
  }
}
