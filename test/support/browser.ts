import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_BIN = process.env.TEST_CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', 'artifacts');

/**
 * WCAG 2.1 A/AA violations axe-core finds on the page as it is now (contrast, labels, names,
 * landmarks, ARIA). axe is evaluated through the DevTools protocol, outside the page's CSP.
 */
export async function accessibilityViolations(page: Page): Promise<{ id: string; impact: string; targets: string[] }[]> {
  const axe = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axe);
  return page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))`);
}

/**
 * Debian's chromium, headless, through playwright-core, with a fresh profile of its own and every
 * background service off: the only requests it makes are the page's. Every request is recorded.
 */
export async function launchBrowser(label: string) {
  const profile = await mkdtemp(join(tmpdir(), `cgw-chromium-${label}-`));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1366, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  // Console errors (CSP violations show up here) and uncaught exceptions of every page.
  const errors: string[] = [];
  context.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    context,
    requests,
    errors,
    /** A fresh tab (its own sessionStorage). */
    page: (): Promise<Page> => context.newPage(),
    screenshot: (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
