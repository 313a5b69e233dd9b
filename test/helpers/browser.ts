/**
 * Headless Chromium (Debian's `chromium`, see scripts/system-deps.ts) driven by puppeteer-core,
 * which never downloads a browser.
 *
 *   const browser = await launchBrowser(t);              // one per test file, closed on teardown
 *   const tab = await openPage(t, browser, baseUrl);     // an isolated context: cookies of its own
 *   await tab.goto('/docs');
 *   t.same(tab.consoleErrors, []); t.same(tab.foreignRequests(), []);
 *   await tab.screenshot('docs-rest');                   // test-output/screenshots/docs-rest.png
 *
 * A context is cheap (no new process): a two-user test opens two pages on one browser.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Test } from 'tap';
import { findBinary } from '../../scripts/system-deps.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Gitignored: screenshots to look at after a run. */
export const SCREENSHOT_DIR = path.join(root, 'test-output/screenshots');

export async function launchBrowser(t: Test): Promise<Browser> {
  const executablePath = findBinary('chromium');
  if (!executablePath) {
    // npm test installs it first (scripts/system-deps.ts); this only happens when a file is run alone.
    throw new Error('Chromium is not installed: apt-get install -y --no-install-recommends chromium');
  }
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    // Root in CI and containers has no user namespace sandbox; /dev/shm is often tiny there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
  t.teardown(() => browser.close());
  return browser;
}

export interface BrowserTab {
  page: Page;
  baseUrl: string;
  /** console.error messages, uncaught page errors, failed requests and HTTP errors, in order. */
  consoleErrors: string[];
  /** Every URL the page requested (documents, scripts, styles, fetches, images, workers). */
  requests: string[];
  /** Requests to anything but the base URL's origin (inline data: and this origin's blob: are local). */
  foreignRequests(): string[];
  /** Opens a path of the base URL and waits until the network is idle; returns the HTTP status. */
  goto(urlPath: string): Promise<number | undefined>;
  /** The rendered text of the page (body.innerText). */
  text(): Promise<string>;
  /** The page's DOM as HTML (body.innerHTML). */
  html(): Promise<string>;
  /** The absolute href of every link on the page. */
  links(): Promise<string[]>;
  /** Scrolls the element with this id into view (for a screenshot of it). */
  scrollToId(id: string): Promise<void>;
  /** A viewport PNG in test-output/screenshots/NAME.png; returns its path. */
  screenshot(name: string): Promise<string>;
}

export async function openPage(t: Test, browser: Browser, baseUrl: string, viewport = { width: 1400, height: 900 }): Promise<BrowserTab> {
  const context = await browser.createBrowserContext();
  t.teardown(() => context.close().catch(() => undefined));
  const page = await context.newPage();
  await page.setViewport(viewport);
  const origin = new URL(baseUrl).origin;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${String(error)}`));
  page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`));
  page.on('response', (response) => {
    // Chromium's console line for a failed load does not name the URL; this does.
    if (response.status() >= 400) consoleErrors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  page.on('request', (request) => {
    requests.push(request.url());
  });
  const isLocal = (url: string) =>
    url.startsWith('data:') || url.startsWith(`blob:${origin}/`) || (URL.canParse(url) && new URL(url).origin === origin);
  return {
    page,
    baseUrl,
    consoleErrors,
    requests,
    foreignRequests: () => requests.filter((url) => !isLocal(url)),
    async goto(urlPath) {
      const response = await page.goto(new URL(urlPath, baseUrl).href, { waitUntil: 'networkidle0', timeout: 120_000 });
      return response?.status();
    },
    // Expressions rather than functions: the project type-checks without the DOM library.
    text: () => page.evaluate('document.body.innerText') as Promise<string>,
    html: () => page.evaluate('document.body.innerHTML') as Promise<string>,
    links: () => page.evaluate('[...document.querySelectorAll("a[href]")].map((a) => a.href)') as Promise<string[]>,
    async scrollToId(id) {
      await page.evaluate(`document.getElementById(${JSON.stringify(id)})?.scrollIntoView()`);
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
  };
}
