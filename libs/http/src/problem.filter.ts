import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem';

export function sendProblem(err: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const p = toProblem(err);
  if (p.status === 503) logger.warn(`${request.method} ${request.url}: ${p.code}: ${(err as Error)?.message ?? err}`);
  else if (p.status >= 500) logger.error({ err, url: request.url }, 'request failed');
  if (p.status === 503) reply.header('retry-after', '1');
  reply.status(p.status).header('content-type', 'application/problem+json').header('cache-control', 'no-store').send(p);
}

/** Every error raised in a Nest handler, guard or pipe leaves as problem-details JSON. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(err, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), this.logger);
  }
}
