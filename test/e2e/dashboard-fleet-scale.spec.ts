import { randomUUID } from 'node:crypto';
import { accessibilityViolations, launchBrowser } from '../support/browser';
import { call } from '../support/http';
import { startStack } from '../support/stack';
import { DASHBOARD_DIR } from '../support/dashboard-build';

jest.setTimeout(300_000);

const SEEDED = 50_000;
const PAGE = 100;

/**
 * 50,000 containers in the health read model (bulk rows as the projection writes them; their ids
 * sort after any random UUID, so the one real container registered through the API opens page 1):
 * the fleet view shows one server page at a time, counts from the summary, and a live change.
 */
describe('dashboard fleet view at 50,000 containers (Debian chromium, gateway)', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const org = randomUUID();
  const project = randomUUID();

  beforeAll(async () => {
    stack = await startStack('fleet-scale', {
      DASHBOARD_DIR,
      // Nothing seeded lapses during the test: the only status change is the one the test makes.
      HEALTH_WATCHDOG_INTERVAL_MS: '600000',
      HEALTH_OFFLINE_GRACE_MS: '3600000',
      PROJECTION_POLL_MS: '20',
    });
    await stack.startGateway();
    // i % 10: 0-5 healthy, 6 degraded, 7 stale, 8 offline, 9 starting; 25 projects over 5 orgs.
    await stack.pool.query(
      `INSERT INTO container_health (container_id, org_id, project_id, gateway_node, display_name, status, deleted, last_watchdog_at,
                                     stats, services, watchdogs, status_since, created_at, updated_at, updated_position)
       SELECT ('ffff' || lpad(to_hex(i), 4, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
              ('0000000' || (i % 5) || '-0000-4000-8000-000000000000')::uuid,
              ('000000' || lpad((i % 25)::text, 2, '0') || '-0000-4000-8000-000000000001')::uuid,
              'node-' || (i % 3), 'seeded ' || i,
              (ARRAY['healthy','healthy','healthy','healthy','healthy','healthy','degraded','stale','offline','starting'])[i % 10 + 1],
              false, now(),
              jsonb_build_object('cpu', jsonb_build_object('load1', 0.5, 'load5', 0.4, 'count', 2),
                                 'memory', jsonb_build_object('usedRatio', 0.25, 'totalMb', 4000),
                                 'disk', jsonb_build_object('usedRatio', 0.23, 'sizeBytes', null)),
              '[{"name":"terminal","healthy":true}]'::jsonb, 1, now(), now(), now(), 0
         FROM generate_series(1, ${SEEDED}) AS i`,
    );
    await stack.pool.query('ANALYZE container_health');
    browser = await launchBrowser('fleet-scale');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the first server page, server counts and filters, pages by cursor and applies a live change in place', async () => {
    const operator = stack.operator();
    const reg = await call(stack.url, 'POST', '/onboarding/containers', operator, {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: 'real one',
    });
    expect(reg.status).toBe(201);
    const { container_id: real, token } = reg.body as { container_id: string; token: string };
    expect(real < 'ffff').toBe(true);
    const counts = async () => (await stack.get('/containers/summary', operator)).body as { counts: Record<string, number>; total: number };
    // The projection has the registered container (starting) next to the seeded ones.
    for (let i = 0; (await counts()).total !== SEEDED + 1; i++) {
      if (i > 200) throw new Error('the registered container never reached the health read model');
      await new Promise((r) => setTimeout(r, 50));
    }
    const summary = await counts();

    const page = await browser.page();
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Access token').fill(operator);
    await page.keyboard.press('Enter');
    await page.locator('#live-status[data-state="live"]').waitFor();

    // First page from navigation: a fresh load of the document, signed in (the session survives a reload).
    const rows = page.locator('#fleet-table tbody tr[data-container]');
    await rows.first().waitFor();
    const started = Date.now();
    await page.reload({ waitUntil: 'commit' });
    await rows.nth(PAGE - 1).waitFor();
    const firstPageMs = Date.now() - started;
    console.log(`fleet scale: first page of ${PAGE} rows out of ${SEEDED + 1} containers rendered ${firstPageMs} ms after navigation`);
    expect(await rows.count()).toBe(PAGE);
    await page
      .locator('[data-count="total"]')
      .filter({ hasText: new RegExp(`^${SEEDED + 1}$`) })
      .waitFor();
    expect(await page.locator('#fleet-shown').textContent()).toBe(`Rows 1–${PAGE} of ${(SEEDED + 1).toLocaleString('en-GB')} containers.`);
    await page.locator(`tr[data-container="${real}"][data-status="starting"]`).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    const firstIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-container')));

    // Next page: other rows, by the server's cursor; previous comes back to the first.
    await page.getByRole('button', { name: 'Next page' }).click();
    await page
      .locator('#fleet-shown')
      .filter({ hasText: `Rows ${PAGE + 1}–${2 * PAGE} of` })
      .waitFor();
    const secondIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-container')));
    expect(secondIds).toHaveLength(PAGE);
    expect(secondIds.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(secondIds[0]! > firstIds[PAGE - 1]!).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page
      .locator('#fleet-shown')
      .filter({ hasText: `Rows 1–${PAGE} of` })
      .waitFor();
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-container')))).toEqual(firstIds);

    // A status filter: the server filters, the count is the server's.
    await page.getByLabel('Status', { exact: true }).selectOption('degraded');
    const degraded = summary.counts.degraded!;
    expect(degraded).toBe(SEEDED / 10);
    await page
      .locator('#fleet-shown')
      .filter({ hasText: `of ${degraded.toLocaleString('en-GB')} containers` })
      .waitFor();
    expect(await rows.count()).toBe(PAGE);
    expect(await page.locator('#fleet-table tbody tr[data-container]:not([data-status="degraded"])').count()).toBe(0);
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.locator(`tr[data-container="${real}"]`).waitFor();

    // A real watchdog through the API: starting -> healthy reaches the page by SSE; only that row
    // changes, the list is not fetched again and the counts follow.
    const lists = () => browser.requests.filter((u) => new URL(u).pathname === '/containers').length;
    const listsBefore = lists();
    await page.evaluate('window.marker = 42');
    const other = rows.nth(1);
    await other.evaluate((tr) => ((tr as { marker?: number }).marker = 7));
    const posted = await stack.post(
      '/collab/event',
      {
        project_id: project,
        event: {
          type: 'user-container:watchdog',
          system: {
            cpu: { usage: '0.50, 0.43', count: '2' },
            memory: { free: 1000, total: 4000 },
            disk: { size: '252G', usage: '23.00%' },
          },
          services: [{ name: 'terminal', healthy: true }],
        },
      },
      token,
    );
    expect(posted.status).toBe(202);
    await page.locator(`tr[data-container="${real}"][data-status="healthy"]`).waitFor({ timeout: 30_000 });
    await page
      .locator('[data-count="healthy"]')
      .filter({ hasText: new RegExp(`^${summary.counts.healthy! + 1}$`) })
      .waitFor();
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(await other.evaluate((tr) => (tr as { marker?: number }).marker)).toBe(7);
    expect(lists()).toBe(listsBefore);
    expect(await rows.count()).toBe(PAGE);
    expect(browser.errors).toEqual([]);
  });
});
