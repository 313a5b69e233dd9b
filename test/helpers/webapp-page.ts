/**
 * Driving the web client (/app) in headless Chromium: one browser per test, one cheap browser
 * context per user, console errors recorded, screenshots to test-output/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { findBinary } from '../../scripts/system-deps.ts';

// Functions passed to page.evaluate / waitForFunction run in the page; the project's tsconfig has no
// DOM library (it is Node code), so the page's globals are declared here, loosely.
declare const document: any;

export const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };
export const PASSWORD = 'Sup3r-secret';

export interface AppUser {
  name: string;
  page: Page;
  errors: string[];
  /** While the test has cut this user's network: Chromium itself logs each failed reconnect. */
  offline: boolean;
}

export async function launch(t: Test): Promise<Browser> {
  const executablePath = findBinary('chromium');
  if (!executablePath) throw new Error('chromium is missing: apt-get install chromium');
  const browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  t.teardown(() => browser.close());
  return browser;
}

export async function open(browser: Browser, baseUrl: string, name: string): Promise<AppUser> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(DESKTOP);
  const errors: string[] = [];
  const user: AppUser = { name, page, errors, offline: false };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The browser's own log line for a WebSocket that cannot connect while the network is cut
    // is expected then (the SDK retries with backoff); any other error, or this one at another time, fails.
    if (user.offline && /^WebSocket connection to '.*' failed/.test(message.text())) return;
    errors.push(`${message.text()} ${message.location().url ?? ''}`);
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('requestfailed', (request) => {
    // A WebSocket torn down by the test's network cut is expected; so is DevTools reporting a
    // fetch answered 204 (no body to load) as ERR_ABORTED (a plain fetch does it too). Anything else fails.
    if (request.url().startsWith('ws')) return;
    if (request.failure()?.errorText === 'net::ERR_ABORTED' && request.response()?.status() === 204) return;
    errors.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(`${baseUrl}/app`, { waitUntil: 'networkidle0' });
  return user;
}

export const shot = async (user: AppUser, name: string) => {
  mkdirSync(SHOTS, { recursive: true });
  await user.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
};

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

