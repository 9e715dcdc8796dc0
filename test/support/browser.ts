import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_BIN = process.env.TEST_CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', 'artifacts');

/**
 * Debian's chromium, headless, through playwright-core, with a fresh profile of its own and every
 * background service off: the only requests it makes are the page's. Every request is recorded.
 */
export async function launchBrowser(label: string) {
  const profile = await mkdtemp(join(tmpdir(), `cgw-chromium-${label}-`));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    context,
    requests,
    /** A fresh tab (its own sessionStorage). */
    page: (): Promise<Page> => context.newPage(),
    screenshot: (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
