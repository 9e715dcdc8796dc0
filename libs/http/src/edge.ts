import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ValidationError } from '@app/common';
import { sendProblem } from './problem.filter';
import { findUnsafeInUrl, findUnsafeText } from './unsafe-text';
import { isCheckedJsonBody } from './json-body';

/** Swagger UI (/docs): its own scripts and styles (it sets inline styles), nothing from elsewhere. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const logger = new Logger('http');

/**
 * What every answer of the gateway gets, whatever route (or none) serves it:
 * - a path or query string with NUL, an unpaired surrogate or invalid UTF-8 is refused (400 naming
 *   the parameter) before routing; so is such text anywhere in a JSON body (naming its path);
 * - `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store` unless the route chose its
 *   caching (answers carry tokens and secrets; none is meant for a shared cache);
 * - a CSP on /docs. Unknown routes are Nest's not-found handler's, mapped in toProblem.
 * Routes that hijack the reply (/oidc) set their own headers (libs/sso).
 */
export function installEdgeGuards(instance: FastifyInstance): void {
  // Callback hooks, not async ones: an async hook costs every request a promise and its
  // microtasks, three hooks on every request of the ingest path (issue 18). A hook that answers
  // does not call done (Fastify's early reply from a hook).
  instance.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // On the raw response: streams (SSE) and hijacked replies write their headers themselves.
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    const problem = findUnsafeInUrl(req.url);
    if (!problem) return done();
    sendProblem(ValidationError.of(problem.field, problem.message), req, reply, logger);
  });
  instance.addHook('preValidation', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // A JSON body was looked through by its parser (parseJsonBody); other parsers' bodies are here.
    const problem = req.body !== null && typeof req.body === 'object' && !isCheckedJsonBody(req.body) ? findUnsafeText(req.body) : null;
    if (!problem) return done();
    sendProblem(ValidationError.of(problem.field, problem.message), req, reply, logger);
  });
  instance.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (req.url === '/docs' || req.url.startsWith('/docs/') || req.url.startsWith('/docs?'))
      reply.header('content-security-policy', DOCS_CSP);
    done(null, payload);
  });
}
