/**
 * Driving the web client (/app) on test/helpers/browser.ts: one headless Chromium per test file,
 * one cheap browser context per user, screenshots to test-output/screenshots/ (gitignored).
 */
import type { Page } from 'puppeteer-core';
import type { Browser } from 'puppeteer-core';
import type { Test } from 'tap';
import { launchBrowser, openPage, type BrowserTab } from './browser.ts';

// Functions passed to page.evaluate / waitForFunction run in the page; the project's tsconfig has no
// DOM library (it is Node code), so the page's globals are declared here, loosely.
declare const document: any;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };
export const PASSWORD = 'Sup3r-secret';

export const launch = launchBrowser;

export interface AppUser {
  name: string;
  tab: BrowserTab;
  page: Page;
  /** Cuts the network (DevTools offline mode); `restore` brings it back. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Call once the app shows it is connected again: WebSocket errors after that count. */
  reconnected(): void;
  /** The tab's console errors, uncaught errors and failed requests, less the expected ones (see below). */
  errors(): string[];
}

/** Opens /app for one user in a fresh browser context. */
export async function open(t: Test, browser: Browser, baseUrl: string, name: string): Promise<AppUser> {
  const tab = await openPage(t, browser, baseUrl, DESKTOP);
  const { page } = tab;
  // DevTools reports a fetch answered 204 (nothing to load) as ERR_ABORTED, a plain fetch too:
  // such a request did not fail.
  const answered204 = new Set<string>();
  page.on('requestfailed', (request) => {
    if (request.failure()?.errorText === 'net::ERR_ABORTED' && request.response()?.status() === 204) answered204.add(request.url());
  });
  // While the test has cut the network, Chromium itself logs each failed WebSocket reconnect (the
  // SDK retries with backoff) and any fetch the app tried meanwhile (a read marker): expected then,
  // and only then.
  const offline: Array<[number, number]> = [];
  let cutAt: number | null = null;
  const duringCut = (index: number) => offline.some(([from, to]) => index >= from && index < to) || (cutAt !== null && index >= cutAt);
  const user: AppUser = {
    name,
    tab,
    page,
    async cut() {
      cutAt = tab.consoleErrors.length;
      await page.setOfflineMode(true);
    },
    async restore() {
      await page.setOfflineMode(false);
    },
    reconnected() {
      if (cutAt !== null) offline.push([cutAt, tab.consoleErrors.length]);
      cutAt = null;
    },
    errors: () =>
      tab.consoleErrors.filter((error, index) => {
        const aborted = /^request failed: (\S+) \(net::ERR_ABORTED\)$/.exec(error);
        if (aborted && answered204.has(aborted[1]!)) return false;
        if (duringCut(index) && /WebSocket connection to '.*' failed|^request failed: wss?:|ERR_INTERNET_DISCONNECTED/.test(error)) return false;
        return true;
      }),
  };
  await tab.goto('/app');
  return user;
}

export const shot = (user: AppUser, name: string) => user.tab.screenshot(name);

export async function register(user: AppUser, username: string, displayName: string) {
  const { page } = user;
  await page.click('button[role=tab]:nth-child(2)');
  await page.type('input[name=username]', username);
  await page.type('input[name=email]', `${username}@example.com`);
  await page.type('input[name=display_name]', displayName);
  await page.type('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('textarea[aria-label=Message]');
}

/** The contents of the confirmed messages shown, top to bottom. */
export const shownMessages = (page: Page) =>
  page.$$eval('.messages .message[data-message-id] .text', (nodes) => nodes.map((node) => node.textContent ?? ''));

export async function waitForMessages(page: Page, expected: string[]) {
  await page.waitForFunction(
    (wanted: string[]) => {
      const shown = [...document.querySelectorAll('.messages .message[data-message-id] .text')].map((n) => n.textContent);
      return wanted.every((text) => shown.includes(text));
    },
    { timeout: 15_000 },
    expected,
  );
}

export async function send(page: Page, text: string) {
  await page.focus('textarea[aria-label=Message]');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

export async function openConversation(page: Page, title: string) {
  const handle = await page.waitForFunction(
    (wanted: string) =>
      [...document.querySelectorAll('nav .conversation')].find((b) => b.querySelector('.conversation-title')?.textContent === wanted),
    { timeout: 15_000 },
    title,
  );
  await (handle as unknown as { click(): Promise<void> }).click();
  await page.waitForFunction((wanted: string) => document.querySelector('#channel-title')?.textContent?.includes(wanted), { timeout: 15_000 }, title);
}

export const unreadBadge = (page: Page, title: string) =>
  page.evaluate((wanted: string) => {
    const item = [...document.querySelectorAll('nav .conversation')].find((b) => b.querySelector('.conversation-title')?.textContent === wanted);
    return item?.querySelector('.badge')?.textContent ?? null;
  }, title);

export async function fillPanel(page: Page, opener: string, fields: Record<string, string>, submit: string) {
  await page.click(`button[aria-label="${opener}"]`);
  for (const [label, value] of Object.entries(fields)) {
    const input = await page.waitForSelector(`::-p-xpath(//label[contains(., "${label}")]//input)`);
    await input!.type(value);
  }
  await page.click(`::-p-xpath(//button[normalize-space(.)="${submit}"])`);
}

