import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { OnboardingService } from './onboarding.service';
import { metadataOf } from './request-metadata';
import { VpnService } from './vpn.service';
import { renderClientJson, renderClientProfile } from './domain/vpn-files';

const PROFILE_TYPE = 'application/x-openvpn-profile';

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
  @ApiProduces('application/json', PROFILE_TYPE)
  @ApiOperation({
    summary:
      "This container's OpenVPN client: by default the seed client's JSON {certificates: {<file name>: <PEM>}, config} " +
      `(config says "remote GATEWAY_FQDN <port>"); with Accept: ${PROFILE_TYPE}, one inline profile. Never cached`,
  })
  async vpnConfig(
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | { certificates: Record<string, string>; config: string }> {
    const { parts } = await this.vpn.profile(p.subject, metadataOf(req, p));
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('vary', 'accept');
    if (wantsProfile(req.headers.accept)) {
      reply.header('content-type', `${PROFILE_TYPE}; charset=utf-8`);
      return renderClientProfile(parts);
    }
    return renderClientJson(parts);
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

/** The inline profile only when asked for by name; no Accept, *\/\* or JSON get the seed's JSON. */
function wantsProfile(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0].trim().toLowerCase() === PROFILE_TYPE);
}
