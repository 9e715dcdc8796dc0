import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { OnboardingService } from './onboarding.service';
import { metadataOf } from './request-metadata';
import { VpnService } from './vpn.service';

/** What a container asks for itself; its identity comes from the token alone. */
@ApiTags('container events')
@Controller('collab')
@UseGuards(RateLimitGuard)
@Auth('container')
export class VpnConfigController {
  constructor(
    @Inject(VpnService) private readonly vpn: VpnService,
    @Inject(OnboardingService) private readonly onboarding: OnboardingService,
  ) {}

  @Get('vpn-config')
  // The first fetch allocates an address and a certificate.
  @RateLimit('write')
  @ApiProduces('application/x-openvpn-profile')
  @ApiOperation({ summary: "This container's OpenVPN client profile (CA, certificate and key inline); never cached" })
  async vpnConfig(
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { profile } = await this.vpn.profile(p.subject, metadataOf(req, p));
    reply
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .header('content-type', 'application/x-openvpn-profile; charset=utf-8');
    return profile;
  }

  @Post('token')
  // Each rotation appends events that retention keeps: a container needs one now and then, not hundreds.
  @RateLimit('token')
  @HttpCode(200)
  @ApiOperation({
    summary: "Rotate this container's own token before it expires: the answer holds the new token; the one used here stops working",
  })
  async rotate(@CurrentPrincipal() p: Principal, @Req() req: FastifyRequest) {
    const r = await this.onboarding.rotate(p.subject, { metadata: metadataOf(req, p) });
    return { token: r.token, token_version: r.token_version, token_expires_at: r.token_expires_at, settings: r.settings };
  }
}
