import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';

export interface HttpOptions {
  bodyLimitBytes: number;
  trustProxy: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * The Fastify adapter with the gateway's limits: JSON bodies only, a body limit (413 above it),
 * prototype-poisoning keys refused, header and body timeouts against slow clients, and request
 * ids taken from `x-request-id` when sane.
 */
export function createFastifyAdapter(o: HttpOptions): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: o.bodyLimitBytes,
    trustProxy: o.trustProxy,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 30_000,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
}

/**
 * JSON bodies only (415 for anything else), and a headers timeout against slow clients. Errors
 * Fastify raises before a handler runs (413, 415, bad JSON) reach Nest's exception layer, and so
 * ProblemFilter, through the error handler Nest installs.
 */
export function configureFastify(instance: FastifyInstance): void {
  instance.removeContentTypeParser(['text/plain']);
  instance.server.headersTimeout = 10_000;
}
