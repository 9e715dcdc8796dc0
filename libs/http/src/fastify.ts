import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { registerJsonParser } from './json-body';
import { Logger } from '@nestjs/common';
import { installEdgeGuards } from './edge';
import { sendProblem } from './problem.filter';

export interface HttpOptions {
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** Slow-client cut-offs (HTTP_*_TIMEOUT_MS); the defaults are the configuration's defaults. */
  timeouts?: Partial<HttpTimeouts>;
}

export interface HttpTimeouts {
  /** All request headers must have arrived within this (else 408 and the connection closes). */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this (else 408). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is destroyed after this; 0: never (SSE streams stay open). */
  connectionTimeoutMs: number;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  connectionTimeoutMs: 0,
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * The Fastify adapter with the gateway's limits: JSON bodies only, a body limit (413 above it),
 * prototype-poisoning keys refused, header and body timeouts against slow clients, and request
 * ids taken from `x-request-id` when sane.
 */
export function createFastifyAdapter(o: HttpOptions): FastifyAdapter {
  const t = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
  // Node checks the header and request deadlines every connectionsCheckingInterval (30 s by
  // default, longer than the deadlines themselves): check at least four times per deadline.
  const checkEvery = Math.max(250, Math.min(1_000, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 4)));
  return new FastifyAdapter({
    bodyLimit: o.bodyLimitBytes,
    trustProxy: o.trustProxy,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: t.requestTimeoutMs,
    connectionTimeout: t.connectionTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    http: { headersTimeout: Math.min(t.headersTimeoutMs, t.requestTimeoutMs), connectionsCheckingInterval: checkEvery },
    return503OnClosing: true,
    // A URL the router cannot decode, or a path parameter beyond maxParamLength: problem+json like
    // every other error (Fastify's own answer echoes the URL).
    frameworkErrors: (error: Error, req: FastifyRequest, reply: FastifyReply) => sendProblem(error, req, reply, new Logger('http')),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
}

/**
 * JSON bodies only (415 for anything else), parsed by parseJsonBody (a prototype key refused
 * naming its field). Errors
 * Fastify raises before a handler runs (413, 415, bad JSON) reach Nest's exception layer, and so
 * ProblemFilter, through the error handler Nest installs.
 */
export function configureFastify(instance: FastifyInstance): void {
  instance.removeContentTypeParser(['text/plain']);
  registerJsonParser(instance);
  installEdgeGuards(instance);
}
