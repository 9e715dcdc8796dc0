import { applyDecorators, Injectable } from '@nestjs/common';
import { EventsHandler } from '@nestjs/cqrs';
// The metadata key @EventsHandler writes; @nestjs/cqrs does not re-export its constants.
import { EVENTS_HANDLER_METADATA } from '@nestjs/cqrs/dist/decorators/constants';
import type { Projection } from './types';

/**
 * What every projection handles: pages of events committed to the log, in log order. Never
 * published on @nestjs/cqrs's in-process EventBus (it is not exported from this lib): the store-
 * driven Projector is the only thing that feeds projections, each page in a transaction with its
 * checkpoint, under the projection's lease. The bus is fire-and-forget and never trusted as durable.
 */
class CommittedEventsPage {}

/**
 * Declares a projection handler, in @nestjs/cqrs's own terms (an @EventsHandler of committed
 * pages, injectable): the ProjectorHost discovers every provider so declared and runs a Projector
 * for it. Provide the class (or a factory that returns an instance of it) in the read model's module.
 */
export const ProjectionHandler = (): ClassDecorator => applyDecorators(Injectable(), EventsHandler(CommittedEventsPage));

/** Whether `instance` was declared with @ProjectionHandler(). */
export function isProjectionHandler(instance: unknown): instance is Projection {
  if (!instance || typeof instance !== 'object') return false;
  const handles = Reflect.getMetadata(EVENTS_HANDLER_METADATA, instance.constructor) as unknown[] | undefined;
  return !!handles?.includes(CommittedEventsPage);
}
