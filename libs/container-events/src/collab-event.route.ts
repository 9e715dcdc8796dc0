import { ForbiddenException, INestApplication, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JwtAuthGuard, type Principal } from '@app/auth';
import { RateLimiter, RateLimitGuard, sendProblem } from '@app/http';
import { CollabEventController, contextOf, resultSchema } from './collab-event.controller';
import { IngestContainerEvent } from './ingest.commands';
import { IngestService } from './ingest.service';
import { collabEventBody } from './domain/wire';

const PATH = '/collab/event';

/**
 * POST /collab/event (the watchdogs' path, issue 18) as a plain Fastify route instead of a Nest
 * controller method: Nest's per-request machinery (router context, guard and interceptor
 * consumers, parameter factories, exception zone) cost more than the route's own work. The same
 * steps run in the same order with the same code: the Fastify hooks of every route (body parser,
 * edge guards), then JwtAuthGuard (token, revocation, the controller's @Auth('container')), then
 * RateLimitGuard (the `events` budget per token subject), then validation (the field named in the
 * 400), then the ingest (IngestContainerEvent on the CommandBus); every error leaves through sendProblem as under ProblemFilter.
 */
export function registerCollabEventRoute(app: INestApplication, instance: FastifyInstance): void {
  const auth = app.get(JwtAuthGuard);
  const limit = new RateLimitGuard(app.get(RateLimiter), app.get(Reflector));
  const ingest = app.get(IngestService);
  const commands = app.get(CommandBus);
  const logger = new Logger('http');
  // The guards read their metadata (roles, budget) from the controller class, as on its Nest
  // routes; this handler carries none of its own.
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      const context = new ExecutionContextHost([req, reply], CollabEventController, handler);
      if (!(await auth.canActivate(context)) || !(await limit.canActivate(context))) {
        throw new ForbiddenException('Forbidden resource');
      }
      const principal = (req as FastifyRequest & { user: Principal }).user;
      const result = await commands.execute(new IngestContainerEvent(principal, ingest.parse(req.body), contextOf(req)));
      reply.code(result.status === 'accepted' ? 202 : 200).send(result);
    } catch (err) {
      sendProblem(err, req, reply, logger);
    }
  };
  // Errors raised before the handler (415, 413, malformed JSON, a refused key) leave the same way.
  instance.route({ method: 'POST', url: PATH, handler, errorHandler: (err, req, reply) => sendProblem(err, req, reply, logger) });
}

/** The route's OpenAPI entry (Nest's document knows only controllers): merged into the gateway's document. */
export function collabEventOpenApi(): Record<string, unknown> {
  return {
    [PATH]: {
      post: {
        operationId: 'CollabEventController_postEvent',
        summary: 'Post one container event',
        description:
          'Answers 202 once the event is durably committed (or was, by an earlier try with the same event_id), ' +
          '200 when the event changes nothing (an unchanged mapping).',
        tags: ['container events'],
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: z.toJSONSchema(collabEventBody, { io: 'input', unrepresentable: 'any' }) } },
        },
        responses: {
          202: { description: '', content: { 'application/json': { schema: resultSchema } } },
          200: { description: '', content: { 'application/json': { schema: resultSchema } } },
        },
      },
    },
  };
}
