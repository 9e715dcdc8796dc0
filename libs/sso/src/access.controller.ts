import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { metadataOf } from '@app/onboarding';
import { AccessService } from './access.service';

@ApiTags('sso')
@Controller('sso')
@UseGuards(RateLimitGuard)
@RateLimit('write')
@Auth('operator', 'platform')
export class AccessController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  @Post('users')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a platform user (email, name, optional password for the gateway sign-in); appends platform-user:registered',
  })
  register(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.access.registerUser(body, metadataOf(req, p));
  }

  @Put('projects/:project_id/members/:user_id')
  @HttpCode(200)
  @ApiOperation({ summary: "Grant a user access to a project's containers (granting a member again changes nothing)" })
  grant(
    @CurrentPrincipal() p: Principal,
    @Param('project_id') projectId: string,
    @Param('user_id') userId: string,
    @Req() req: FastifyRequest,
  ) {
    return this.access.grant(projectId, userId, metadataOf(req, p));
  }

  @Delete('projects/:project_id/members/:user_id')
  @HttpCode(200)
  @ApiOperation({ summary: "Revoke a user's access to a project; protected services refuse them within SSO_CHECK_CACHE_MS" })
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('project_id') projectId: string,
    @Param('user_id') userId: string,
    @Req() req: FastifyRequest,
  ) {
    return this.access.revoke(projectId, userId, metadataOf(req, p));
  }

  @Get('access')
  @ApiOperation({ summary: 'May user U open container C? (the access read model)' })
  async mayOpen(@Query('user_id') userId: string, @Query('container_id') containerId: string) {
    return {
      user_id: userId,
      container_id: containerId,
      allowed: await this.access.mayOpen(String(userId ?? ''), String(containerId ?? '')),
    };
  }
}
