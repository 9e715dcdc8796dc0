import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from './actor';
import { GatewayPoolService } from './gateway-pool.service';
import { OnboardingService } from './onboarding.service';

type ResultOf<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/**
 * Onboarding's use cases as commands and queries on @nestjs/cqrs's buses (typed results through
 * Command<T> / Query<T>). Each handler is the adapter: it calls the service, which loads the
 * stream, decides and appends with the expected version. The buses are in-process and synchronous
 * here (execute awaits the handler); nothing durable rides on them.
 */
export class RegisterContainer extends Command<ResultOf<OnboardingService['register']>> {
  constructor(
    readonly body: unknown,
    readonly actor: Actor,
  ) {
    super();
  }
}

export class RotateContainerToken extends Command<ResultOf<OnboardingService['rotate']>> {
  constructor(
    readonly containerId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

export class DeleteContainer extends Command<ResultOf<OnboardingService['remove']>> {
  constructor(
    readonly containerId: string,
    readonly body: unknown,
    readonly actor: Actor,
  ) {
    super();
  }
}

export class RegisterGatewayNode extends Command<ResultOf<GatewayPoolService['register']>> {
  constructor(
    readonly body: unknown,
    readonly actor: Actor,
  ) {
    super();
  }
}

export class DrainGatewayNode extends Command<ResultOf<GatewayPoolService['drain']>> {
  constructor(
    readonly nodeId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

export class DescribeContainer extends Query<ResultOf<OnboardingService['describe']>> {
  constructor(readonly containerId: string) {
    super();
  }
}

export class ListGatewayNodes extends Query<ResultOf<GatewayPoolService['list']>> {}

@CommandHandler(RegisterContainer)
export class RegisterContainerHandler implements ICommandHandler<RegisterContainer> {
  constructor(@Inject(OnboardingService) private readonly onboarding: OnboardingService) {}
  execute(c: RegisterContainer) {
    return this.onboarding.register(c.body, c.actor);
  }
}

@CommandHandler(RotateContainerToken)
export class RotateContainerTokenHandler implements ICommandHandler<RotateContainerToken> {
  constructor(@Inject(OnboardingService) private readonly onboarding: OnboardingService) {}
  execute(c: RotateContainerToken) {
    return this.onboarding.rotate(c.containerId, c.actor);
  }
}

@CommandHandler(DeleteContainer)
export class DeleteContainerHandler implements ICommandHandler<DeleteContainer> {
  constructor(@Inject(OnboardingService) private readonly onboarding: OnboardingService) {}
  execute(c: DeleteContainer) {
    return this.onboarding.remove(c.containerId, c.body, c.actor);
  }
}

@CommandHandler(RegisterGatewayNode)
export class RegisterGatewayNodeHandler implements ICommandHandler<RegisterGatewayNode> {
  constructor(@Inject(GatewayPoolService) private readonly nodes: GatewayPoolService) {}
  execute(c: RegisterGatewayNode) {
    return this.nodes.register(c.body, c.actor);
  }
}

@CommandHandler(DrainGatewayNode)
export class DrainGatewayNodeHandler implements ICommandHandler<DrainGatewayNode> {
  constructor(@Inject(GatewayPoolService) private readonly nodes: GatewayPoolService) {}
  execute(c: DrainGatewayNode) {
    return this.nodes.drain(c.nodeId, c.actor);
  }
}

@QueryHandler(DescribeContainer)
export class DescribeContainerHandler implements IQueryHandler<DescribeContainer> {
  constructor(@Inject(OnboardingService) private readonly onboarding: OnboardingService) {}
  execute(q: DescribeContainer) {
    return this.onboarding.describe(q.containerId);
  }
}

@QueryHandler(ListGatewayNodes)
export class ListGatewayNodesHandler implements IQueryHandler<ListGatewayNodes> {
  constructor(@Inject(GatewayPoolService) private readonly nodes: GatewayPoolService) {}
  execute() {
    return this.nodes.list();
  }
}

export const ONBOARDING_HANDLERS = [
  RegisterContainerHandler,
  RotateContainerTokenHandler,
  DeleteContainerHandler,
  RegisterGatewayNodeHandler,
  DrainGatewayNodeHandler,
  DescribeContainerHandler,
  ListGatewayNodesHandler,
];
