import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { call } from '../support/http';
import { freePort, startTestNginx, type TestNginx } from '../support/nginx';
import { eventually, startStack } from '../support/stack';
import { DASHBOARD_DIR } from '../support/dashboard-build';

jest.setTimeout(120_000);

const DOMAIN = 'collab.test';
const TOKEN_KEY = 'collab-gateway.dashboard.token';
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe("dashboard sign-in through the gateway's OpenID provider (Chromium, gateway + worker)", () => {
  let nginx: TestNginx;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const orgA = randomUUID();
  const orgB = randomUUID();
  const projectA = randomUUID();
  const projectB = randomUUID();
  const tag = randomUUID().slice(0, 8);
  const viewer = { email: `vera-${tag}@example.com`, name: 'Vera', password: 'vera long password', id: '' };
  const op = { email: `Olga-${tag}@Example.com`, name: 'Olga', password: 'olga long password', id: '' };
  const nobody = { email: `nora-${tag}@example.com`, name: 'Nora', password: 'nora long password', id: '' };
  const containers: Record<'a' | 'b', { id: string; fqdn: string }> = { a: { id: '', fqdn: '' }, b: { id: '', fqdn: '' } };

  async function container(org: string, project: string, name: string) {
    const reg = await call(stack.url, 'POST', '/onboarding/containers', stack.operator(), {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: name,
    });
    expect(reg.status).toBe(201);
    const id = (reg.body as { container_id: string }).container_id;
    return { id, fqdn: `uc-${id}--terminal.org-${org}.${DOMAIN}` };
  }

  /** The dashboard's account button, then the provider's own form (on the gateway's host). */
  async function providerSignIn(page: Page, user: { email: string; password: string }) {
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByRole('button', { name: 'Continue with your gateway account' }).click();
    await page.getByLabel('Email').fill(user.email);
    expect(new URL(page.url()).pathname).toMatch(/^\/sso\/interaction\//);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const origin = () => new URL(stack.url).origin;
  const foreign = () => browser.requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin());
  const stored = (page: Page) => page.evaluate<string | null>(`sessionStorage.getItem('${TOKEN_KEY}')`);

  beforeAll(async () => {
    const gatewayPort = await freePort();
    nginx = await startTestNginx('dashsignin', { gateway: `127.0.0.1:${gatewayPort}` });
    stack = await startStack('dashsignin', {
      ...nginx.env,
      DASHBOARD_DIR,
      PLATFORM_DOMAIN: DOMAIN,
      PROJECTION_POLL_MS: '20',
      SSO_ISSUER: `http://127.0.0.1:${gatewayPort}/oidc`,
      // Operators by email (any case) or user id.
      DASHBOARD_OPERATORS: op.email.toLowerCase(),
      DASHBOARD_TOKEN_TTL_S: '600',
    });
    await stack.startGateway(gatewayPort);
    await stack.startWorker();
    for (const u of [viewer, op, nobody]) {
      const r = await call(stack.url, 'POST', '/sso/users', stack.operator(), { email: u.email, name: u.name, password: u.password });
      expect(r.status).toBe(201);
      u.id = r.body.user_id;
    }
    containers.a = await container(orgA, projectA, `alpha ${tag}`);
    containers.b = await container(orgB, projectB, `bravo ${tag}`);
    expect((await call(stack.url, 'PUT', `/sso/projects/${projectA}/members/${viewer.id}`, stack.operator())).status).toBe(200);
    // The access read model knows the grant and the container's project (the viewer's org comes from there).
    await eventually(
      async () =>
        (await call(stack.url, 'GET', `/sso/access?user_id=${viewer.id}&container_id=${containers.a.id}`, stack.operator())).body
          ?.allowed === true,
      20_000,
    );
    browser = await launchBrowser('dashboard-signin');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await nginx?.stop();
  });

  it("a granted user signs in through the provider's form and sees only their org's containers; sign-out ends both sessions", async () => {
    const page = await browser.page();
    await providerSignIn(page, viewer);
    await page.locator('#live-status[data-state="live"]').waitFor();
    // Back on the dashboard with nothing in the address bar: the one-time code is gone from it.
    expect(new URL(page.url()).search).toBe('');
    const token = (await stored(page))!;
    expect(claimsOf(token)).toMatchObject({ sub: viewer.id, role: 'viewer', org: orgA, projects: [projectA] });
    expect((claimsOf(token).exp as number) - (claimsOf(token).iat as number)).toBe(600);
    await page.locator(`tr[data-container="${containers.a.id}"]`).waitFor();
    expect(await page.locator(`tr[data-container="${containers.b.id}"]`).count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(`bravo ${tag}`);
    await page.getByText('Signed in as viewer').waitFor();
    await browser.screenshot(page, 'signin-viewer-fleet');

    // Sign out: the token is gone, and so is the provider's session (its confirmation page, then back).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByLabel('Access token').waitFor();
    expect(await stored(page)).toBeNull();
    // The next account sign-in asks for the password again (no silent sign-in as the previous user).
    await page.getByRole('button', { name: 'Continue with your gateway account' }).click();
    await page.getByLabel('Password').waitFor();
    await page.close();

    // The token never travelled in a URL; every request stayed on the gateway's origin.
    expect(browser.requests.filter((u) => u.includes(token))).toEqual([]);
    expect(foreign()).toEqual([]);
  });

  it('an operator (DASHBOARD_OPERATORS) signs in and explains a URL', async () => {
    const page = await browser.page();
    await providerSignIn(page, op);
    await page.getByText('Signed in as operator').waitFor();
    expect(claimsOf((await stored(page))!)).toMatchObject({ sub: op.id, role: 'operator' });
    const url = `https://${containers.b.fqdn}/lab`;
    await page.goto(`${stack.url}/dashboard/#/explain/${encodeURIComponent(url)}`);
    const verdict = page.locator('.verdict[data-code]');
    await verdict.waitFor();
    const api = await call(stack.url, 'GET', `/routes/explain?url=${encodeURIComponent(url)}`, stack.operator());
    expect(api.status).toBe(200);
    expect([await verdict.getAttribute('data-code'), await verdict.innerText()]).toEqual([api.body.code, api.body.verdict]);
    await browser.screenshot(page, 'signin-operator-explain');
    await page.close();
    expect(foreign()).toEqual([]);
  });

  it("a wrong password gets the provider's error and stores no token", async () => {
    await browser.context.clearCookies();
    const page = await browser.page();
    await providerSignIn(page, { email: viewer.email, password: 'not the password at all' });
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
    expect(await stored(page)).toBeNull();
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Access token').waitFor();
    expect(await stored(page)).toBeNull();
    await page.close();
  });

  it('a signed-in user with no project gets no dashboard: the reason is shown and no token is stored', async () => {
    await browser.context.clearCookies();
    const page = await browser.page();
    await providerSignIn(page, nobody);
    await page.getByRole('alert').filter({ hasText: 'Signed in, but no dashboard for you' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(await stored(page)).toBeNull();
    await page.close();
  });

  it('pasting a token still works (automation), and the exchange refuses anything but a live dashboard access token', async () => {
    const page = await browser.page();
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Access token').fill(stack.viewer(orgB));
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-container="${containers.b.id}"]`).waitFor();
    expect(await page.locator(`tr[data-container="${containers.a.id}"]`).count()).toBe(0);
    await page.close();

    const exchange = (authorization?: string) =>
      fetch(`${stack.url}/sso/dashboard-token`, { method: 'POST', headers: authorization ? { authorization } : {} });
    for (const auth of [undefined, 'Bearer', `Bearer ${'x'.repeat(43)}`, `Bearer ${stack.operator()}`]) {
      const r = await exchange(auth);
      expect([auth?.slice(0, 12), r.status]).toEqual([auth?.slice(0, 12), 401]);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
