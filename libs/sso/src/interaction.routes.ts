import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OidcProvider } from './oidc-types';
import { RateLimiter, sendProblem, unsafeTextProblem } from '@app/http';
import { Logger } from '@nestjs/common';
import type { UserDirectory } from './users';
import type { SignInThrottle } from './sign-in-throttle';

const logger = new Logger('sso:interaction');

const UID = /^[A-Za-z0-9_-]{10,64}$/;
const FORM_LIMIT = 4096;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid: string, message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign in</h1>${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/sso/interaction/${escapeHtml(uid)}/login">
<label>Email <input name="login" type="email" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

function sendPage(reply: FastifyReply, status: number, html: string): void {
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
    .send(html);
}

/**
 * The provider's sign-in interaction (the platform's users, via UserDirectory): a form on the
 * gateway's host. The interaction is bound to the browser by the provider's signed interaction
 * cookie (interactionDetails refuses without it), which is what makes the form CSRF-safe; the
 * uid in the path must match it too. Consent is never asked (loadExistingGrant grants).
 */
export async function registerInteractionRoutes(
  scope: FastifyInstance,
  providerOf: () => Promise<OidcProvider>,
  users: UserDirectory,
  throttle: SignInThrottle,
  limiter: RateLimiter,
): Promise<void> {
  // Every request of the form counts against the source address's anonymous budget.
  scope.addHook('onRequest', async (req, reply) => {
    try {
      await limiter.enforce('anonymous', `ip:${req.ip}`, reply, 'source');
    } catch (err) {
      sendProblem(err, req, reply, logger);
      return reply;
    }
  });
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const details = async (req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) => {
    if (!UID.test(req.params.uid)) return null;
    const d = await (await providerOf()).interactionDetails(req.raw, reply.raw).catch(() => null);
    return d && d.uid === req.params.uid ? d : null;
  };
  const expired = (reply: FastifyReply) =>
    sendPage(
      reply,
      400,
      '<!doctype html><p>This sign-in has expired or belongs to another browser. Go back to the service and try again.</p>',
    );

  scope.get<{ Params: { uid: string } }>('/sso/interaction/:uid', async (req, reply) => {
    const d = await details(req, reply);
    if (!d) return expired(reply);
    if (d.prompt.name !== 'login') {
      // Consent is granted by loadExistingGrant; any other prompt has nothing to ask the user.
      reply.hijack();
      return (await providerOf()).interactionFinished(req.raw, reply.raw, { consent: {} }, { mergeWithLastSubmission: true });
    }
    return sendPage(reply, 200, page(d.uid));
  });

  scope.post<{ Params: { uid: string }; Body: Record<string, string> }>('/sso/interaction/:uid/login', async (req, reply) => {
    const d = await details(req, reply);
    if (!d || d.prompt.name !== 'login') return expired(reply);
    const body = req.body ?? {};
    const login = typeof body.login === 'string' ? body.login.slice(0, 320) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    if (unsafeTextProblem(login) || unsafeTextProblem(password))
      return sendPage(reply, 400, page(d.uid, 'The email or password holds characters that cannot be used.'));
    const attempt = { login, sourceAddress: req.ip };
    // Locked (this account, or this address, failed too often): no password is checked, the right one included.
    const wait = login && password ? await throttle.lockedFor(attempt) : 0;
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      reply.header('retry-after', String(s));
      return sendPage(reply, 429, page(d.uid, `Too many failed sign-ins. Try again in ${s} seconds.`));
    }
    const account = login && password ? await users.authenticate(login, password) : null;
    if (!account) {
      if (login && password) await throttle.failed(attempt);
      return sendPage(reply, 401, page(d.uid, 'Wrong email or password.'));
    }
    await throttle.succeeded(attempt);
    reply.hijack();
    return (await providerOf()).interactionFinished(
      req.raw,
      reply.raw,
      { login: { accountId: account.userId } },
      { mergeWithLastSubmission: false },
    );
  });
}
