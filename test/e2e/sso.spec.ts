import { createPublicKey, randomUUID, verify as verifySignature } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { requireEsm } from '@app/sso';
import { Browser } from '../support/cookie-jar-browser';
import { call } from '../support/http';
import { freePort, startTestNginx, TestNginx } from '../support/nginx';
import { eventually, startStack } from '../support/stack';

// openid-client 6 is ESM only: loaded natively, as the gateway loads oidc-provider (libs/sso/src/infra/esm.ts).
const oidc = requireEsm<typeof import('openid-client')>('openid-client');

/**
 * Single sign-on end to end on real components: the gateway as OpenID provider (oidc-provider,
 * state in PostgreSQL), a container's OAuth client from SETTINGS driven by openid-client
 * (authorization code + PKCE), and protected services through a real nginx (auth_request to the
 * gateway's guard, sessions on the service's own host).
 */
jest.setTimeout(120_000);

const DOMAIN = 'apps.sso.test';

describe('single sign-on (real nginx, gateway, openid-client)', () => {
  let nginx: TestNginx;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let issuer: string;
  let operator: string;
  const servers: Server[] = [];
  const org = randomUUID();
  const project = randomUUID();
  const alice = {
    email: `alice-${randomUUID().slice(0, 8)}@example.com`,
    password: 'correct horse battery',
    name: 'Alice Ö. Example',
    id: '',
  };
  const bob = { email: `bob-${randomUUID().slice(0, 8)}@example.com`, password: 'another long password', name: 'Bob', id: '' };
  let container: { id: string; token: string; client: { client_id: string; client_secret: string; redirect_uris: string[] } };

  const origin = (host: string) => `http://${host}:${nginx.port}`;
  const svc = (service?: string) => `uc-${container.id}${service ? `--${service}` : ''}.org-${org}.${DOMAIN}`;

  beforeAll(async () => {
    const gatewayPort = await freePort();
    issuer = `http://127.0.0.1:${gatewayPort}/oidc`;
    nginx = await startTestNginx('sso', { gateway: `127.0.0.1:${gatewayPort}`, live: true });
    stack = await startStack('sso', {
      ...nginx.env,
      PLATFORM_DOMAIN: DOMAIN,
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      VPN_POOL_CIDR: '127.78.0.0/16',
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
      SSO_ISSUER: issuer,
      SSO_SERVICE_SCHEME: 'http',
      SSO_SERVICE_PORT: String(nginx.port),
      SSO_CHECK_CACHE_MS: '1000',
    });
    await stack.startGateway(gatewayPort);
    await stack.startWorker();
    operator = stack.operator();

    for (const u of [alice, bob]) {
      const r = await call(stack.url, 'POST', '/sso/users', operator, { email: u.email, name: u.name, password: u.password });
      expect(r.status).toBe(201);
      u.id = r.body.user_id;
    }

    const reg = await call(stack.url, 'POST', '/onboarding/containers', operator, {
      org_id: org,
      project_id: project,
      image_id: 'pgadmin:4',
      display_name: 'sso e2e',
    });
    expect(reg.status).toBe(201);
    const clients = reg.body.settings_decoded.oauth_clients;
    expect(clients).toHaveLength(1);
    container = { id: reg.body.container_id, token: reg.body.token, client: clients[0] };
    // A grant names a known project: one a container was registered in.
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${alice.id}`, operator)).body.status).toBe('granted');
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${alice.id}`, operator)).body.status).toBe('unchanged');
    // The access read model follows the log (users, membership, the container's project).
    await eventually(async () =>
      (await call(stack.url, 'GET', `/sso/access?user_id=${alice.id}&container_id=${container.id}`, operator)).body.allowed === true
        ? true
        : null,
    );
    await eventually(async () => ((await stack.pool.query(`SELECT count(*)::int AS n FROM access_users`)).rows[0].n === 2 ? true : null));
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await stack?.close();
    await nginx?.stop();
  });

  /** Signs a browser in at the provider's form, from an authorization URL; answers the final redirect to the client. */
  async function signIn(browser: Browser, authUrl: string, user: { email: string; password: string }): Promise<URL> {
    const toForm = await browser.follow(authUrl);
    const form = toForm[toForm.length - 1];
    expect(form.status).toBe(200);
    expect(form.body).toContain('<form method="post"');
    const action = /action="([^"]+)"/.exec(form.body)![1];
    const posted = await browser.postForm(new URL(action, form.url).href, { login: user.email, password: user.password });
    expect(posted.status).toBe(303);
    // Resume at the provider, then back to the client's redirect URI (not fetched: the client handles it).
    const pages = await browser.follow(new URL(posted.location!, posted.url).href, (u) => !u.href.startsWith(issuer));
    return new URL(pages[pages.length - 1].url);
  }

  it('discovery and JWKS validate; a container client signs a user in with code + PKCE; tokens name the client as audience', async () => {
    const { client } = container;
    expect(client).toMatchObject({ issuer, client_id: `uc-${container.id}`, token_url: `${issuer}/token` });
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Stored hashed only.
    const { rows } = await stack.pool.query(`SELECT secret_sha256 FROM oauth_clients WHERE client_id = $1`, [client.client_id]);
    expect(rows[0].secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await stack.pool.query(`SELECT data FROM events`).then((r) => r.rows))).not.toContain(client.client_secret);

    const config = await oidc.discovery(new URL(issuer), client.client_id, client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    // The fields OpenID Connect Discovery 1.0 requires.
    for (const f of [
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
    ] as const) {
      expect(meta[f]).toBeTruthy();
    }
    expect(meta.response_types_supported).toContain('code');
    expect(meta.code_challenge_methods_supported).toContain('S256');
    expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(meta.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    expect(meta.id_token_signing_alg_values_supported).toEqual(['RS256']);
    const jwks = (await (await fetch(meta.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
      expect(typeof k.kid).toBe('string');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k[secret]).toBeUndefined();
    }

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const redirectUri = client.redirect_uris[0];
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    // A wrong password is refused at the form.
    const first = await browser.follow(authUrl.href);
    const form = first[first.length - 1];
    const action = new URL(/action="([^"]+)"/.exec(form.body)![1], form.url).href;
    expect((await browser.postForm(action, { login: alice.email, password: 'wrong password!!' })).status).toBe(401);

    const back = await signIn(browser, authUrl.href, alice);
    expect(back.origin + back.pathname).toBe(redirectUri);
    const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: issuer, aud: client.client_id, sub: alice.id, email: alice.email, name: alice.name });
    // The ID token's signature verifies against the published JWKS.
    const [h, p, s] = tokens.id_token!.split('.');
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid) as import('node:crypto').JsonWebKey;
    expect(
      verifySignature('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')),
    ).toBe(true);
    // The access token works at userinfo and, introspected, names the container's client.
    expect(await oidc.fetchUserInfo(config, tokens.access_token, alice.id)).toMatchObject({ sub: alice.id, email: alice.email });
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(intro).toMatchObject({ active: true, client_id: client.client_id, sub: alice.id });
    // Another container's client cannot read (or revoke) this container's tokens.
    const other = await call(stack.url, 'POST', '/onboarding/containers', operator, {
      org_id: org,
      project_id: randomUUID(),
      image_id: 'pgadmin:4',
      display_name: 'other',
    });
    const otherClient = other.body.settings_decoded.oauth_clients[0];
    const otherConfig = await oidc.discovery(new URL(issuer), otherClient.client_id, otherClient.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    expect(await oidc.tokenIntrospection(otherConfig, tokens.access_token)).toEqual({ active: false });
    await oidc.tokenRevocation(otherConfig, tokens.access_token);
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true });
    // A code is used once; a replay is refused and revokes what the code gave.
    await expect(oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: false });

    // PKCE with a wrong verifier, and a redirect URI off the container's hosts, are refused.
    const again = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const silent = await browser.follow(again.href, (u) => !u.href.startsWith(issuer));
    const code2 = new URL(silent[silent.length - 1].url);
    await expect(
      oidc.authorizationCodeGrant(config, code2, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    for (const bad of [
      `http://evil.example/cb`,
      `${origin(`uc-${randomUUID()}.org-${org}.${DOMAIN}`)}/oauth2/authorize`,
      `https://${svc()}/oauth2/authorize`,
    ]) {
      const u = oidc.buildAuthorizationUrl(config, { redirect_uri: bad, scope: 'openid', state });
      const r = await browser.get(u.href);
      expect(r.status).toBe(400);
      expect(r.body).toContain('redirect_uri');
    }
    // Any path on the container's own service hosts is a valid redirect URI (services are mapped later).
    const own = oidc.buildAuthorizationUrl(config, { redirect_uri: `${origin(svc('pgadmin'))}/oauth2/authorize`, scope: 'openid', state });
    const ownPages = await browser.follow(own.href, (u) => !u.href.startsWith(issuer));
    expect(new URL(ownPages[ownPages.length - 1].url).searchParams.get('code')).toBeTruthy();
  });

  it('protected route: 302 to sign-in without a session, 200 with user headers for a member, 403 for a non-member and within seconds of revocation', async () => {
    // The container joins the VPN and serves a terminal (always protected) and an open web page.
    await call(stack.url, 'GET', '/collab/vpn-config', container.token);
    const { rows } = await stack.pool.query(`SELECT host(address) AS a FROM vpn_addresses WHERE container_id = $1`, [container.id]);
    const address: string = rows[0].a;
    const port = await freePort();
    const backend = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          path: req.url,
          host: req.headers.host,
          id: req.headers['x-auth-user-id'] ?? null,
          email: req.headers['x-auth-user-email'] ?? null,
          name: req.headers['x-auth-user-name'] ?? null,
        }),
      );
    });
    servers.push(backend);
    await new Promise<void>((ok) => backend.listen(port, address, ok));
    const post = (event: object) => call(stack.url, 'POST', '/collab/event', container.token, { event, project_id: project });
    expect((await post({ type: 'user-container:watchdog' })).status).toBe(202);
    expect((await post({ type: 'user-container:map-http-service', name: 'terminal', port })).status).toBe(202);
    expect((await post({ type: 'user-container:map-http-service', name: 'web', port, protected: false })).status).toBe(202);
    expect((await post({ type: 'user-container:map-http-service', name: 'notes', port, protected: true })).status).toBe(202);
    expect((await post({ type: 'user-container:map-http-service', name: 'bad', port, protected: 'yes' })).body.field).toBe(
      'event.protected',
    );

    const terminal = svc('terminal');
    const anonymous = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    // An open route answers without sign-in, and forged identity headers never reach it.
    const open = await eventually(
      async () => {
        const r = await anonymous.get(`${origin(svc('web'))}/`, { 'x-auth-user-id': 'forged' });
        return r.status === 200 ? r : null;
      },
      15_000,
      50,
    );
    expect(JSON.parse(open.body)).toMatchObject({ id: null, email: null });

    // No session: 302 to the sign-in on the service's own host, carrying the path back.
    const denied = await eventually(
      async () => {
        const r = await anonymous.get(`${origin(terminal)}/shell?tab=1`, { 'x-auth-user-id': alice.id });
        return r.status === 302 ? r : null;
      },
      15_000,
      50,
    );
    expect(denied.location).toBe(`${origin(terminal)}/.collab-sso/start?rd=${encodeURIComponent('/shell?tab=1')}`);

    // Alice signs in (at the provider's form), and lands back on her path with a session for this host only.
    const aliceBrowser = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    const toStart = await aliceBrowser.get(denied.location!);
    expect(toStart.status).toBe(302);
    expect(toStart.location!.startsWith(`${issuer}/auth?`)).toBe(true);
    expect(aliceBrowser.cookiesFor(terminal).map((c) => c.name)).toEqual(['collab_sso_state']);
    const back = await signIn(aliceBrowser, toStart.location!, alice);
    expect(back.href.startsWith(`${origin(terminal)}/.collab-sso/callback?`)).toBe(true);
    const landed = await aliceBrowser.get(back.href);
    expect(landed.status).toBe(302);
    expect(landed.location).toBe(`${origin(terminal)}/shell?tab=1`);
    const session = aliceBrowser.cookiesFor(terminal).find((c) => c.name === 'collab_sso')!;
    expect(session.raw).toMatch(/HttpOnly/);
    expect(session.raw).toMatch(/SameSite=Lax/);
    const ok = await aliceBrowser.get(landed.location!, { 'x-auth-user-id': 'forged' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      path: '/shell?tab=1',
      host: terminal,
      id: alice.id,
      email: alice.email,
      name: encodeURIComponent(alice.name),
    });

    // What the check costs through nginx (logged, not asserted: the machine is shared).
    const median = async (url: string, b: Browser) => {
      const ms: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t = process.hrtime.bigint();
        expect((await b.get(url)).status).toBe(200);
        ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      return ms.sort((x, y) => x - y)[50];
    };
    const protectedMs = await median(`${origin(terminal)}/shell`, aliceBrowser);
    const openMs = await median(`${origin(svc('web'))}/`, aliceBrowser);
    console.log(`median request through nginx: protected ${protectedMs.toFixed(2)} ms, open ${openMs.toFixed(2)} ms`);

    // The session is the terminal's: another protected host of the same container asks again (single
    // sign-on: the provider session makes that a redirect round, no form).
    const notes = svc('notes');
    const other = await eventually(
      async () => {
        const r = await aliceBrowser.get(`${origin(notes)}/`);
        return r.status === 302 ? r : null;
      },
      15_000,
      50,
    );
    const sso = await aliceBrowser.follow(other.location!);
    expect(sso.every((p) => p.status !== 200 || p.url.startsWith(origin(notes)))).toBe(true);
    expect(sso[sso.length - 1]).toMatchObject({ status: 200, url: `${origin(notes)}/` });
    // The cookie sent to another host by hand is refused there.
    expect((await anonymous.get(`${origin(notes)}/`, { cookie: `collab_sso=${session.value}` })).status).toBe(302);

    // Signing out of the notes host ends that host's session only (on the server: the old cookie is dead too).
    const notesSession = aliceBrowser.cookiesFor(notes).find((c) => c.name === 'collab_sso')!.value;
    expect((await anonymous.get(`${origin(notes)}/`, { cookie: `collab_sso=${notesSession}` })).status).toBe(200);
    const out = await aliceBrowser.get(`${origin(notes)}/.collab-sso/logout?rd=/bye`);
    expect([out.status, out.location]).toEqual([302, `${origin(notes)}/bye`]);
    expect(aliceBrowser.cookiesFor(notes).some((c) => c.name === 'collab_sso')).toBe(false);
    expect((await anonymous.get(`${origin(notes)}/`, { cookie: `collab_sso=${notesSession}` })).status).toBe(302);
    expect((await aliceBrowser.get(`${origin(terminal)}/shell`)).status).toBe(200);
    expect((await aliceBrowser.get(`${origin(notes)}/.collab-sso/logout?rd=${encodeURIComponent('//evil.example')}`)).status).toBe(400);

    // Bob is signed in but not a member: 403.
    const bobBrowser = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    const bobStart = await bobBrowser.get((await bobBrowser.get(`${origin(terminal)}/`)).location!);
    const bobBack = await signIn(bobBrowser, bobStart.location!, bob);
    const bobLanded = await bobBrowser.get(bobBack.href);
    expect(bobLanded.status).toBe(302);
    expect((await bobBrowser.get(bobLanded.location!)).status).toBe(403);
    expect((await call(stack.url, 'GET', `/sso/access?user_id=${bob.id}&container_id=${container.id}`, operator)).body.allowed).toBe(false);
    expect((await call(stack.url, 'GET', `/sso/access?user_id=${alice.id}&container_id=${container.id}`, operator)).body.allowed).toBe(
      true,
    );

    // Revocation: 403 within seconds.
    const revoked = await call(stack.url, 'DELETE', `/sso/projects/${project}/members/${alice.id}`, operator);
    expect(revoked.body.status).toBe('revoked');
    const t0 = Date.now();
    await eventually(async () => ((await aliceBrowser.get(`${origin(terminal)}/shell`)).status === 403 ? true : null), 10_000, 50);
    const revocationMs = Date.now() - t0;
    expect(revocationMs).toBeLessThan(10_000);
    expect((await aliceBrowser.get(`${origin(terminal)}/shell`)).status).toBe(403);
    console.log(`revocation -> 403 through nginx: ${revocationMs} ms`);
  });

  it('refuses open redirects, forged or replayed state, and a code of another sign-in', async () => {
    const terminal = svc('terminal');
    const b = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    for (const rd of [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example/',
      'evil',
      '/%0d%0aSet-Cookie:x=1'.replace('%0d%0a', '\r\n'),
    ]) {
      const r = await b.get(`${origin(terminal)}/.collab-sso/start?rd=${encodeURIComponent(rd)}`);
      expect([r.status, r.location]).toEqual([400, undefined]);
      expect(JSON.parse(r.body).field).toBe('rd');
    }
    // A host that is not a platform service host is refused by the gateway itself.
    expect((await call(stack.url, 'GET', '/sso/start?rd=/', undefined, undefined, { 'x-collab-host': 'evil.example' })).status).toBe(400);

    // A real sign-in under way: its state cookie, and the provider's code for it.
    const start = await b.get(`${origin(terminal)}/.collab-sso/start?rd=/`);
    const state = new URL(start.location!).searchParams.get('state')!;
    const back = await signIn(b, start.location!, alice);
    const code = back.searchParams.get('code')!;
    const callback = (s: string, c = code) =>
      `${origin(terminal)}/.collab-sso/callback?code=${encodeURIComponent(c)}&state=${encodeURIComponent(s)}`;

    // Forged state (not this browser's), and the right state from a browser without the cookie.
    const forged = await b.get(callback(state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA')));
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body).field).toBe('state');
    const elsewhere = new Browser({ domain: DOMAIN, nginxPort: nginx.port });
    expect((await elsewhere.get(callback(state))).status).toBe(403);
    // A forged code with the right state fails, and burns the sign-in; the real code cannot be used after it.
    expect((await b.get(callback(state, 'forged-code'))).status).toBe(403);
    expect((await b.get(callback(state))).status).toBe(403);
    expect(b.cookiesFor(terminal).some((c) => c.name === 'collab_sso')).toBe(false);
  });

  it('the platform API names a bad field, changes nothing, and refuses containers and viewers', async () => {
    const ssoEvents = async () =>
      (await stack.pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'user-%' OR stream_id LIKE 'project-access-%'`))
        .rows[0].n;
    const before = await ssoEvents();
    const bad = [
      [{ email: 'not-an-email', name: 'x' }, 'email'],
      [{ email: 'x@example.com', name: 'a\nb' }, 'name'],
      [{ email: 'x@example.com', name: 'x', password: 'short' }, 'password'],
      [{ email: 'x@example.com', name: 'x', role: 'admin' }, 'role'],
      [{ email: alice.email, name: 'again' }, 'email'],
    ] as const;
    for (const [body, field] of bad) {
      const r = await call(stack.url, 'POST', '/sso/users', operator, body);
      expect([r.status, r.body.field]).toEqual([field === 'email' && body.email === alice.email ? 409 : 400, field]);
    }
    expect((await call(stack.url, 'PUT', `/sso/projects/not-a-uuid/members/${alice.id}`, operator)).body.field).toBe('project_id');
    expect((await call(stack.url, 'DELETE', `/sso/projects/${project}/members/NOPE`, operator)).body.field).toBe('user_id');
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${bob.id}`, container.token)).status).toBe(403);
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${bob.id}`, stack.viewer(org))).status).toBe(403);
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${bob.id}`)).status).toBe(401);
    expect(await ssoEvents()).toBe(before);

    // The access read model rebuilds from the log to the same rows.
    const snapshot = async () =>
      JSON.stringify(
        (
          await stack.pool.query(
            `SELECT (SELECT json_agg(m ORDER BY project_id, user_id) FROM (SELECT project_id, user_id FROM access_members) m) AS members,
              (SELECT json_agg(u ORDER BY user_id) FROM (SELECT user_id, email, name FROM access_users) u) AS users,
              (SELECT json_agg(c ORDER BY container_id) FROM (SELECT container_id, project_id, deleted FROM access_containers) c) AS containers`,
          )
        ).rows[0],
      );
    const live = await snapshot();
    const rebuilt = await call(stack.url, 'POST', '/projections/access/rebuild', operator);
    expect(rebuilt.status).toBe(200);
    expect(await snapshot()).toBe(live);
  });

  it('rotates the client secret with the container token, and deletes the client with the container', async () => {
    const { client } = container;
    const introspect = (secret: string) =>
      fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
        },
        body: 'token=nothing',
      }).then((r) => r.status);
    expect(await introspect(client.client_secret)).toBe(200);
    expect(await introspect('wrong')).toBe(401);
    const rotated = await call(stack.url, 'POST', `/onboarding/containers/${container.id}/token`, operator);
    const fresh = rotated.body.settings_decoded.oauth_clients[0];
    expect(fresh.client_id).toBe(client.client_id);
    expect(fresh.client_secret).not.toBe(client.client_secret);
    expect(await introspect(client.client_secret)).toBe(401);
    expect(await introspect(fresh.client_secret)).toBe(200);
    // Granted again, alice may open the container until it is deleted.
    const mayOpen = async () =>
      (await call(stack.url, 'GET', `/sso/access?user_id=${alice.id}&container_id=${container.id}`, operator)).body.allowed;
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${alice.id}`, operator)).body.status).toBe('granted');
    await eventually(async () => ((await mayOpen()) === true ? true : null));
    expect((await call(stack.url, 'DELETE', `/onboarding/containers/${container.id}`, operator, {})).status).toBe(200);
    await eventually(async () => ((await mayOpen()) === false ? true : null));
    const check = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${fresh.client_secret}`).toString('base64')}`,
      },
      body: 'token=nothing',
    });
    expect(check.status).toBe(401);
    const types = (
      await stack.pool.query(`SELECT event_type FROM events WHERE stream_id = $1 ORDER BY global_position`, [
        `oauth-client-${client.client_id}`,
      ])
    ).rows.map((r) => r.event_type);
    expect(types).toEqual(['oauth-client:created', 'oauth-client:secret-rotated', 'oauth-client:deleted']);
  });
});
