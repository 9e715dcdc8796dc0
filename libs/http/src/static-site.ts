import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/**
 * The page may load only its own scripts, styles and images and talk only to its own origin:
 * no inline script or style, no external request, never framed.
 */
export const STATIC_SITE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply): void {
  reply
    .header('content-security-policy', STATIC_SITE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

/**
 * Serves a built single-page site (index.html + hashed files under assets/) at `prefix`, with a
 * strict CSP. Hashed assets are cached for a year; index.html is revalidated every time, so a new
 * build is picked up at once. A site that was not built answers 503 saying how to build it.
 */
export async function serveStaticSite(
  app: NestFastifyApplication,
  o: { prefix: string; dir: string; buildHint: string },
): Promise<'served' | 'missing'> {
  const root = resolve(o.dir);
  const prefix = o.prefix.endsWith('/') ? o.prefix : `${o.prefix}/`;
  if (!existsSync(join(root, 'index.html'))) {
    const fastify = app.getHttpAdapter().getInstance();
    fastify.get(`${prefix}*`, (_req, reply) => {
      securityHeaders(reply);
      reply.status(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(`Not built: ${o.buildHint}\n`);
    });
    return 'missing';
  }
  const assets = `${join(root, 'assets')}${sep}`;
  app
    .getHttpAdapter()
    .getInstance()
    .get(prefix.slice(0, -1), (_req, reply) => {
      reply.redirect(prefix, 301);
    });
  await app.register(fastifyStatic, {
    root,
    prefix,
    // Swagger UI already decorated the reply with sendFile.
    decorateReply: false,
    index: ['index.html'],
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders: (reply: FastifyReply, path: string) => {
      securityHeaders(reply);
      reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return 'served';
}
