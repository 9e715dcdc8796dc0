import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { accessibilityViolations, launchBrowser } from '../support/browser';
import { call } from '../support/http';
import { startTestNginx, type TestNginx } from '../support/nginx';
import { eventually, startStack } from '../support/stack';
import { DASHBOARD_DIR } from '../support/dashboard-build';

jest.setTimeout(120_000);

const DOMAIN = 'collab.test';
const watchdog = (projectId: string) => ({
  project_id: projectId,
  event: {
    type: 'user-container:watchdog',
    system: {
      cpu: { usage: `${(0.2 + Math.random()).toFixed(2)}, 0.43 `, count: '2' },
      memory: { free: 1000 + Math.round(Math.random() * 500), total: 4000 },
      disk: { size: '252G', usage: '23.00%' },
      network: { ping_time: '12 ms' },
    },
    services: [{ name: 'terminal', healthy: true }],
  },
});

describe('web dashboard in a real browser (Debian chromium, gateway + worker + nginx)', () => {
  let nginx: TestNginx;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const orgA = randomUUID();
  const orgB = randomUUID();
  const projectA = randomUUID();
  const projectB = randomUUID();
  const pumps: NodeJS.Timeout[] = [];

  /** Registers a container and publishes its terminal; answers its id and token. */
  async function container(org: string, project: string, name: string) {
    const reg = await call(stack.url, 'POST', '/onboarding/containers', stack.operator(), {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: name,
    });
    expect(reg.status).toBe(201);
    const { container_id: id, token } = reg.body as { container_id: string; token: string };
    expect(
      (
        await stack.post(
          '/collab/event',
          { project_id: project, event: { type: 'user-container:map-http-service', name: 'terminal', port: 7681 } },
          token,
        )
      ).status,
    ).toBe(202);
    return { id, token, fqdn: `uc-${id}--terminal.org-${org}.${DOMAIN}` };
  }

  /** Watchdogs every 250 ms until stopped (the stale threshold is 2 x 1.5 s of silence). */
  function pump(project: string, token: string): () => void {
    const t = setInterval(() => void stack.post('/collab/event', watchdog(project), token).catch(() => undefined), 250);
    pumps.push(t);
    return () => clearInterval(t);
  }

  /** Signs in by keyboard: the token field has focus, Enter submits. */
  async function signIn(page: Page, token: string) {
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Access token').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('token');
    await page.getByLabel('Access token').fill(token);
    await page.keyboard.press('Enter');
    await page.locator('#live-status[data-state="live"]').waitFor();
  }

  const origin = () => new URL(stack.url).origin;
  /** Every request the browser made went to the gateway's origin (data: URIs are not requests). */
  const foreign = () => browser.requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin());

  beforeAll(async () => {
    nginx = await startTestNginx('dashboard');
    stack = await startStack('dashboard', {
      ...nginx.env,
      DASHBOARD_DIR,
      PLATFORM_DOMAIN: DOMAIN,
      HEALTH_WATCHDOG_INTERVAL_MS: '1500',
      HEALTH_STALE_AFTER_INTERVALS: '2',
      // Stays stale (not offline) for the rest of the file: the routes stay active.
      HEALTH_OFFLINE_GRACE_MS: '600000',
      HEALTH_SWEEP_EVERY_MS: '200',
      HEALTH_OUTAGE_MIN_CONTAINERS: '50',
      HEALTH_HISTORY_BUCKET_S: '1',
      PROJECTION_POLL_MS: '20',
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
    });
    await stack.startGateway();
    await stack.startWorker();
    browser = await launchBrowser('dashboard');
  });

  afterAll(async () => {
    pumps.forEach(clearInterval);
    await browser?.close();
    await stack?.close();
    await nginx?.stop();
  });

  it('serves the page with a strict CSP and cache headers', async () => {
    const index = await fetch(`${stack.url}/dashboard/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${stack.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${stack.url}/dashboard`, { redirect: 'manual' })).headers.get('location')).toBe('/dashboard/');
  });

  it('operator: signs in, sees a container go healthy then stale live, opens its chart and routes, the routes view and the last render', async () => {
    const a = await container(orgA, projectA, 'alpha terminal');
    const stop = pump(projectA, a.token);
    const operator = stack.operator();
    const page = await browser.page();
    await signIn(page, operator);
    expect(await page.evaluate('sessionStorage.length')).toBe(1);

    const row = page.locator(`tr[data-container="${a.id}"]`);
    await page.locator(`tr[data-container="${a.id}"][data-status="healthy"]`).waitFor();
    await row.locator('.badge', { hasText: 'Healthy' }).waitFor();
    await expectText(row, ['alpha terminal', 'terminal', 'ready']);
    await page.locator(`tr[data-container="${a.id}"] td.num`).first().filter({ hasText: '2 cores' }).waitFor();
    await browser.screenshot(page, 'fleet-healthy');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The chart below needs a line, two adjacent one-second buckets at least. On a fast moment the
    // steps above take about a second, and the chart then held one sample (a dot): pump until the
    // history holds three.
    await eventually(
      async () => {
        const stats = await call(stack.url, 'GET', `/containers/${a.id}/stats`, operator);
        return stats.status === 200 && (stats.body as { samples: unknown[] }).samples.length >= 3;
      },
      15_000,
      100,
      'three one-second buckets of samples',
    );

    // Silence: the sweeper marks it stale; the page learns it through SSE, without a reload.
    await page.evaluate('window.marker = 42');
    stop();
    await page.locator(`tr[data-container="${a.id}"][data-status="stale"]`).waitFor({ timeout: 30_000 });
    await row.locator('.badge', { hasText: 'Stale' }).waitFor();
    expect(await page.evaluate('window.marker')).toBe(42);
    await page.locator('[data-count="stale"]').filter({ hasText: '1' }).waitFor();
    await browser.screenshot(page, 'fleet-stale');

    // Search filters the table.
    await page.getByLabel('Search').fill('no such name');
    await expect(row.count()).resolves.toBe(0);
    await page.getByLabel('Search').fill('alpha');
    await row.waitFor();

    // Container view (by keyboard): the chart of its history and its route as a link to the FQDN.
    await page.getByRole('link', { name: 'alpha terminal' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#container-routes a', { hasText: a.fqdn }).waitFor();
    expect(await page.locator('#container-routes a').first().getAttribute('href')).toBe(`//${a.fqdn}/`);
    await page.getByLabel('Time range').selectOption({ label: 'Last 5 minutes' });
    await page.locator('.chart').first().locator('.chart__line').waitFor();
    await expect(page.locator('.chart svg').first().getAttribute('aria-label')).resolves.toMatch(/^CPU load \(1 min\): \d+ samples/);
    // Operators get the audit timeline, or word that this gateway has none yet (404).
    await page.locator('#audit-timeline li').first().or(page.getByText('The audit timeline is not available')).waitFor();
    await browser.screenshot(page, 'container');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The timeline as the audit API's contract has it (that API is another lib's; stood in for
    // here in the browser only): entries in order, text shown as text, never as markup.
    const timeline = '**/audit/containers/*/timeline';
    await page.route(timeline, (r) =>
      r.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          container_id: a.id,
          items: [
            {
              position: '7',
              recorded_at: '2026-11-23T01:00:00.000Z',
              type: 'user-container:registered',
              actor: { type: 'operator', id: 'alice' },
              summary: 'registered <b>alpha</b>',
              data: {},
            },
            {
              position: '9',
              recorded_at: '2026-11-23T01:00:05.000Z',
              type: 'user-container:http-service-mapped',
              actor: { type: 'container', id: a.id },
              summary: 'mapped terminal on 7681',
              data: {},
            },
          ],
        }),
      }),
    );
    await page.reload();
    const entries = page.locator('#audit-timeline li');
    await entries.nth(1).waitFor();
    expect(await entries.allInnerTexts()).toEqual([
      '2026-11-23 01:00:00 user-container:registered registered <b>alpha</b> by operator alice',
      `2026-11-23 01:00:05 user-container:http-service-mapped mapped terminal on 7681 by container ${a.id}`,
    ]);
    expect(await page.locator('#audit-timeline b').count()).toBe(0);
    await page.unroute(timeline);

    // Routes view: the route, and the last nginx render (the worker renders at start and on changes).
    await page.getByRole('link', { name: 'Routes', exact: true }).click();
    await page.locator(`#routes-table tr[data-fqdn="${a.fqdn}"][data-active="true"]`).waitFor();
    await page.locator(`#renders-table tr[data-node="${stack.config.nginx.nodeId}"]`).waitFor({ timeout: 30_000 });
    await browser.screenshot(page, 'routes');
    expect(await accessibilityViolations(page)).toEqual([]);

    // Explain, from the route's row: the page shows the API's verdict and the chain behind it.
    await page.getByRole('link', { name: `Explain ${a.fqdn}` }).click();
    const verdict = page.locator('.verdict[data-code]');
    await verdict.waitFor();
    const api = await call(stack.url, 'GET', `/routes/explain?fqdn=${a.fqdn}`, operator);
    expect([await verdict.getAttribute('data-code'), await verdict.innerText()]).toEqual([api.body.code, api.body.verdict]);
    expect(await page.locator('.chain dd').first().innerText()).toBe(a.fqdn);
    await browser.screenshot(page, 'explain');
    expect(await accessibilityViolations(page)).toEqual([]);

    // A phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Fleet', exact: true }).click();
    await row.waitFor();
    await browser.screenshot(page, 'fleet-phone');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'alpha terminal' }).click();
    await page.locator('.chart svg').first().waitFor();
    await browser.screenshot(page, 'container-phone');
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Access token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.close();

    expect(browser.requests.some((u) => u.endsWith('/containers/events'))).toBe(true);
    expect(browser.requests.filter((u) => u.includes(operator))).toEqual([]);
    expect(foreign()).toEqual([]);
    // Only the failed loads the page expects (the audit API is not there yet): no CSP violation, no exception.
    expect(browser.errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });

  it("a viewer of org A never sees org B's containers: not in the table, not live, not by id, not in routes", async () => {
    const a = await container(orgA, projectA, 'alpha notebook');
    const b = await container(orgB, projectB, 'bravo secret');
    const stopA = pump(projectA, a.token);
    const stopB = pump(projectB, b.token);
    const operator = stack.operator();
    // B is in the read models (the operator sees it), so its absence below means something.
    await eventually(async () => (await stack.get(`/containers/${b.id}`, operator)).body?.status === 'healthy', 20_000);

    const page = await browser.page();
    // A token that is not one: refused with a message, nothing kept.
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'This token was refused' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await signIn(page, stack.viewer(orgA));
    await page.locator(`tr[data-container="${a.id}"][data-status="healthy"]`).waitFor();
    // B goes stale while the viewer watches: the change is not streamed to org A.
    stopB();
    await eventually(async () => (await stack.get(`/containers/${b.id}`, operator)).body?.status === 'stale', 30_000);
    stopA();
    await page.locator(`tr[data-container="${a.id}"][data-status="stale"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator(`tr[data-container="${b.id}"]`).count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('bravo');
    expect(text).not.toContain(b.id.slice(0, 8));
    await browser.screenshot(page, 'viewer-fleet');

    await page.goto(`${stack.url}/dashboard/#/containers/${b.id}`);
    await page.getByText('No such container').waitFor();
    await page.goto(`${stack.url}/dashboard/#/containers/${a.id}`);
    await page.getByText('available to operators only').waitFor();
    await page.getByRole('link', { name: 'Routes', exact: true }).click();
    await page.locator(`#routes-table tr[data-fqdn="${a.fqdn}"]`).waitFor();
    expect(await page.locator(`#routes-table tr[data-fqdn="${b.fqdn}"]`).count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(orgB);
    await browser.screenshot(page, 'viewer-routes');
    await page.close();
    expect(foreign()).toEqual([]);
    // The console is watched (the refused sign-in shows there), and shows nothing else amiss.
    expect(browser.errors.some((e) => /status of 401/.test(e))).toBe(true);
    expect(browser.errors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
  });
});

/** Waits until the element shows each of the texts. */
async function expectText(locator: import('playwright-core').Locator, parts: string[]) {
  for (const p of parts) await locator.filter({ hasText: p }).waitFor();
}
