import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  DeleteContainer,
  DescribeContainer,
  DrainGatewayNode,
  ListGatewayNodes,
  RegisterContainer,
  RegisterGatewayNode,
  RotateContainerToken,
} from './onboarding.commands';
import { containerIdParam, metadataOf, nodeIdParam } from './request-metadata';

@ApiTags('onboarding')
@Controller('onboarding')
// Guards run in the order applied: the token first (bottom decorator), then its write budget.
@UseGuards(RateLimitGuard)
@RateLimit('write')
@Auth('operator', 'platform')
export class OnboardingController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post('containers')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a user container',
    description:
      'Places it on a gateway node (least loaded relative to capacity among nodes not drained) and answers its id, token, SETTINGS and a docker run line.',
  })
  register(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.commands.execute(new RegisterContainer(body, { metadata: metadataOf(req, p) }));
  }

  @Get('containers/:id')
  describe(@Param('id') id: string) {
    return this.queries.execute(new DescribeContainer(containerIdParam(id)));
  }

  @Post('containers/:id/token')
  @HttpCode(200)
  @ApiOperation({ summary: "Rotate a container's token: the old one is refused at once; answers the new token and SETTINGS" })
  rotate(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Req() req: FastifyRequest) {
    return this.commands.execute(new RotateContainerToken(containerIdParam(id), { metadata: metadataOf(req, p) }));
  }

  @Delete('containers/:id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete a container: its token is refused at once, its routes withdrawn, its certificate revoked, its VPN address quarantined',
  })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.commands.execute(new DeleteContainer(containerIdParam(id), body, { metadata: metadataOf(req, p) }));
  }

  @Get('gateway-nodes')
  listNodes() {
    return this.queries.execute(new ListGatewayNodes());
  }

  @Post('gateway-nodes')
  @HttpCode(200)
  @ApiOperation({ summary: 'Register a gateway node (FQDN, VPN endpoint host:port, capacity); the same values again change nothing' })
  registerNode(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.commands.execute(new RegisterGatewayNode(body, { metadata: metadataOf(req, p) }));
  }

  @Post('gateway-nodes/:id/drain')
  @HttpCode(200)
  @ApiOperation({ summary: 'Drain a gateway node: no new container is placed on it; those it serves stay' })
  drain(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Req() req: FastifyRequest) {
    return this.commands.execute(new DrainGatewayNode(nodeIdParam(id), { metadata: metadataOf(req, p) }));
  }
}
