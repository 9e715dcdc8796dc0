import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { Browser, Page } from '../support/cookie-jar-browser';
import { call } from '../support/http';
import { freePort } from '../support/nginx';
import { startStack } from '../support/stack';

jest.setTimeout(180_000);

/**
 * The provider's sign-in form under a password-guessing attack, on two gateway processes sharing
 * PostgreSQL and Redis. Per account: after SIGNIN_MAX_FAILURES_ACCOUNT failures the account is
 * locked (a delay that doubles per further failure), the right password included, on every gateway.
 * Per source address: spraying many accounts from one address locks the address. Every checked
 * failure is an event operators find in the audit API. Before: 200 wrong passwords, then the right
 * one signed in.
 */
describe('security: sign-in throttle (per account, per source, shared by gateways)', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let second: NestFastifyApplication;
  let secondUrl: string;
  let issuer: string;
  let op: string;
  const alice = { email: `alice-${randomUUID().slice(0, 8)}@example.com`, password: 'correct horse battery', id: '' };
  const bob = { email: `bob-${randomUUID().slice(0, 8)}@example.com`, password: 'another long password', id: '' };
  let client: { client_id: string; redirect_uris: string[] };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/oidc`;
    stack = await startStack('sec_signin', {
      SSO_ISSUER: issuer,
      HTTP_TRUST_PROXY: 'true',
      SIGNIN_MAX_FAILURES_ACCOUNT: '5',
      SIGNIN_MAX_FAILURES_SOURCE: '8',
      // Long enough that no lock runs out on a slow machine during the test.
      SIGNIN_LOCK_BASE_MS: '120000',
      RATE_LIMIT_ANON_MAX: '100000',
    });
    await stack.startGateway(port);
    second = await createGateway(stack.config);
    await second.listen({ host: '127.0.0.1', port: 0 });
    secondUrl = `http://127.0.0.1:${(second.getHttpServer().address() as { port: number }).port}`;
    op = stack.operator();
    for (const u of [alice, bob]) {
      const r = await call(stack.url, 'POST', '/sso/users', op, { email: u.email, name: 'U', password: u.password });
      expect(r.status).toBe(201);
      u.id = r.body.user_id;
    }
    const reg = await call(stack.url, 'POST', '/onboarding/containers', op, {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: 'pgadmin:4',
      display_name: 'signin',
    });
    expect(reg.status).toBe(201);
    client = reg.body.settings_decoded.oauth_clients[0];
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  /** A browser at the provider's sign-in form; answers a function posting credentials from an address. */
  async function signInForm(): Promise<(login: string, password: string, from: string, via?: string) => Promise<Page>> {
    const browser = new Browser({ domain: 'unused.test', nginxPort: 1 });
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL(`${issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: client.redirect_uris[0],
      state: randomUUID(),
      nonce: randomUUID(),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const pages = await browser.follow(auth.href);
    const form = pages[pages.length - 1];
    expect(form.status).toBe(200);
    const action = new URL(/action="([^"]+)"/.exec(form.body)![1], form.url);
    return (login, password, from, via) => {
      const url = via ? new URL(action.pathname, via).href : action.href;
      const body = new URLSearchParams({ login, password }).toString();
      return (browser as unknown as { send(m: string, u: string, b: string, h: Record<string, string>): Promise<Page> }).send(
        'POST',
        url,
        body,
        {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': from,
        },
      );
    };
  }

  const failures = async () =>
    (await call(stack.url, 'GET', '/audit/events?type=sso:sign-in-failed&limit=1000', op)).body.items as { data: any; metadata: any }[];

  it('per account: after 5 failures the account is locked on both gateways, the right password included', async () => {
    const post = await signInForm();
    // Each guess from another address: the account's count is what stops them.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await post(alice.email, `wrong guess ${i}`, `10.1.0.${i + 1}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    const right = await post(alice.email, alice.password, '10.1.1.1');
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    // Another gateway process: the same lock (Redis), in any letter case of the login.
    const elsewhere = await post(alice.email.toUpperCase(), alice.password, '10.1.1.2', secondUrl);
    expect(elsewhere.status).toBe(429);
    // Failures were recorded for the 5 checked guesses only; the one that locked says so.
    const mine = (await failures()).filter((e) => e.data.login === alice.email);
    expect(mine).toHaveLength(5);
    expect(mine[4].data.locked_for_ms).toBeGreaterThan(0);
    expect(mine[0].data.source_address).toBe('10.1.0.1');
    expect(JSON.stringify(mine)).not.toContain('wrong guess');
  });

  it('per source: spraying many accounts from one address locks the address, not the accounts elsewhere', async () => {
    const post = await signInForm();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(`nobody-${i}@example.com`, 'password spray 1', '10.2.0.1')).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(401));
    expect(new Set(statuses.slice(8))).toEqual(new Set([429]));
    // Bob from that address is refused too; from his own address he signs in (303 back to the provider).
    expect((await post(bob.email, bob.password, '10.2.0.1', secondUrl)).status).toBe(429);
    expect((await post(bob.email, bob.password, '10.3.0.1')).status).toBe(303);
  });
});
