/**
 * The provider's own pages (sign-out confirmation and its result), replacing oidc-provider's
 * defaults, which import a font from a third-party host: nothing a page of the gateway loads
 * leaves its origin. No inline script or style, so the CSP below needs no exception; the form
 * posts to the provider itself, and a sign-out may end on a service host (post_logout_redirect_uri).
 */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function providerCsp(serviceOrigin: string): string {
  return [
    "default-src 'none'",
    // oidc-provider appends the hash of its one inline script (form_post) to script-src.
    "script-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    `form-action 'self' ${serviceOrigin}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

export function logoutSource(ctx: { body: string; host: string }, form: string): void {
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign out of ${escapeHtml(ctx.host)}?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></main></body></html>`;
}

export function postLogoutSuccessSource(ctx: { body: string }): void {
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Signed out</h1><p>You have been signed out.</p></main></body></html>`;
}
