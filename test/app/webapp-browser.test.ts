/**
 * The web client at /app in a real browser (Debian's Chromium, headless, via puppeteer-core):
 * two browser contexts are two users against a real server (real PostgreSQL, HTTP, WebSocket).
 * Screenshots of the main views at desktop and phone widths go to test-output/screenshots/.
 */
import t from 'tap';
import { build } from '../helpers/build.ts';
import { PHONE, fillPanel, launch, open, openConversation, register, send, shot, shownMessages, unreadBadge, waitForMessages } from '../helpers/webapp-page.ts';

// Functions passed to page.evaluate / waitForFunction run in the page (see webapp-page.ts).
declare const document: any;

t.test('two users chat through /app in a real browser', async (t) => {
  const { app, baseUrl } = await build(t);
  const browser = await launch(t);
  const unique = Date.now().toString(36).slice(-5);
  const ada = await open(t, browser, baseUrl, 'ada');
  const bob = await open(t, browser, baseUrl, 'bob');
  await shot(ada, 'desktop-sign-in');

  // Bob and Ada register through the form; both land in #general.
  await register(bob, `bob${unique}`, 'Bob');
  await register(ada, `ada${unique}`, 'Ada');
  t.match(await ada.page.$eval('#channel-title', (n) => n.textContent), /general/, 'a new account opens #general');

  // Ada creates a private room and invites Bob by username; it appears in Bob's list and he opens it.
  await ada.page.click('button[aria-label="New room"]');
  await (await ada.page.waitForSelector('::-p-xpath(//label[contains(., "Room name")]//input)'))!.type(`plans-${unique}`);
  await ada.page.click('::-p-xpath(//label[contains(., "private")]//input)');
  await ada.page.click('::-p-xpath(//button[normalize-space(.)="Create room"])');
  await ada.page.waitForFunction((name: string) => document.querySelector('#channel-title')?.textContent?.includes(name), {}, `plans-${unique}`);
  await ada.page.click('::-p-xpath(//button[normalize-space(.)="Invite"])');
  await (await ada.page.waitForSelector('::-p-xpath(//label[contains(., "Username to add")]//input)'))!.type(`bob${unique}`);
  await ada.page.click('::-p-xpath(//button[normalize-space(.)="Add to room"])');
  await ada.page.waitForSelector('::-p-xpath(//p[contains(., "Bob was added.")])');
  await ada.page.click('button[aria-label=Close]');
  await ada.page.waitForFunction(() => document.querySelector('.pane-meta')?.textContent === '2 members', { timeout: 15_000 });
  t.ok(await ada.page.$('#channel-title [aria-label=private]'), 'the room is private (padlock)');
  await openConversation(bob.page, `plans-${unique}`);

  // Both see each other's messages live, in the same order; Bob's typing shows on Ada's side
  // (the server fans typing out at most once per 5 s per channel, so this is Bob's first keystroke there).
  await send(ada.page, 'Hi Bob, welcome to plans');
  await waitForMessages(bob.page, ['Hi Bob, welcome to plans']);
  await bob.page.focus('textarea[aria-label=Message]');
  await bob.page.keyboard.type('Hello Ada!');
  await ada.page.waitForFunction(() => document.querySelector('.typing')?.textContent?.includes('Bob is typing'), { timeout: 15_000 });
  t.match(await ada.page.$eval('.typing', (n) => n.textContent), /Bob is typing/, 'Ada sees "Bob is typing…"');
  await shot(ada, 'desktop-room-typing');
  await bob.page.keyboard.press('Enter');
  await waitForMessages(ada.page, ['Hello Ada!']);
  await ada.page.waitForFunction(() => !document.querySelector('.typing')?.textContent, { timeout: 15_000 });
  t.equal(await ada.page.$eval('.typing', (n) => n.textContent), '', 'the indicator goes when his message arrives');
  await send(bob.page, 'What are we planning?');
  await send(bob.page, 'A picnic');
  await waitForMessages(ada.page, ['What are we planning?', 'A picnic']);
  const expected = ['Hi Bob, welcome to plans', 'Hello Ada!', 'What are we planning?', 'A picnic'];
  t.same(await shownMessages(ada.page), expected, 'Ada sees the conversation in order');
  await waitForMessages(bob.page, expected);
  t.same(await shownMessages(bob.page), expected, 'Bob sees the conversation in order');
  await shot(ada, 'desktop-room');

  // An unread badge appears on a conversation Ada is not reading, and clears when she opens it.
  await openConversation(ada.page, 'general');
  await send(bob.page, 'Saturday at noon?');
  await ada.page.waitForFunction(
    (name: string) => [...document.querySelectorAll('nav .conversation')].find((b) => b.textContent?.includes(name))?.querySelector('.badge')?.textContent === '1',
    { timeout: 15_000 },
    `plans-${unique}`,
  );
  t.equal(await unreadBadge(ada.page, `plans-${unique}`), '1', 'one unread message in plans');
  await shot(ada, 'desktop-unread');
  await openConversation(ada.page, `plans-${unique}`);
  await waitForMessages(ada.page, ['Saturday at noon?']);
  t.equal(await unreadBadge(ada.page, `plans-${unique}`), null, 'the badge clears once Ada reads plans');

  // A direct message: Ada opens a DM with Bob; it shows up in Bob's list with a badge.
  await fillPanel(ada.page, 'New direct message', { Username: `bob${unique}` }, 'Open conversation');
  await ada.page.waitForFunction(() => document.querySelector('#channel-title')?.textContent?.includes('Bob'), { timeout: 15_000 });
  await send(ada.page, 'Just between us: bring lemonade');
  await bob.page.waitForFunction(
    () => [...document.querySelectorAll('nav .conversation')].find((b) => b.querySelector('.conversation-title')?.textContent === 'Ada')?.querySelector('.badge'),
    { timeout: 15_000 },
  );
  t.equal(await unreadBadge(bob.page, 'Ada'), '1', 'Bob has one unread DM');
  await openConversation(bob.page, 'Ada');
  await waitForMessages(bob.page, ['Just between us: bring lemonade']);
  await shot(bob, 'desktop-dm');

  // Search finds a message, and opening the result jumps to it.
  await ada.page.type('input[aria-label="Search messages"]', 'picnic');
  await ada.page.keyboard.press('Enter');
  const result = await ada.page.waitForSelector('::-p-xpath(//button[contains(@class, "result")][contains(., "A picnic")])', { timeout: 15_000 });
  t.ok(result, 'search lists the message');
  await shot(ada, 'desktop-search');
  await result!.click();
  await ada.page.waitForSelector('.message.highlight', { timeout: 15_000 });
  t.equal(await ada.page.$eval('.message.highlight .text', (n) => n.textContent), 'A picnic', 'the result opens with the message highlighted');

  // Ada's network is cut (offline, and the server drops her socket) while Bob sends; after she
  // is back, every message shows exactly once, in order.
  await openConversation(ada.page, 'Bob');
  const adaId = await ada.page.evaluate(async () => ((await (await fetch('/api/v1/users/@me')).json()) as { id: string }).id);
  await ada.cut();
  for (const connection of [...app.gateway.connections]) if (connection.auth?.userId === adaId) connection.socket.terminate();
  await ada.page.waitForSelector('::-p-xpath(//*[@role="status"][contains(., "Reconnecting")])', { timeout: 15_000 });
  await shot(ada, 'desktop-reconnecting');
  const whileAway = ['away 1', 'away 2', 'away 3', 'away 4', 'away 5'];
  for (const text of whileAway) await send(bob.page, text);
  await waitForMessages(bob.page, whileAway);
  await ada.restore();
  await waitForMessages(ada.page, whileAway);
  await ada.page.waitForFunction(() => !document.body.textContent?.includes('Reconnecting'), { timeout: 15_000 });
  ada.reconnected();
  const after = await shownMessages(ada.page);
  const dmTexts = await shownMessages(bob.page);
  t.same(dmTexts.slice(-whileAway.length), whileAway, 'Bob shows what he sent');
  t.same(after.filter((text) => whileAway.includes(text)), whileAway, 'Ada shows each message sent while she was away once, in order');
  t.equal(new Set(after).size, after.length, 'no message is shown twice');
  const everyItem = await ada.page.$$eval('.messages .message .text', (nodes: any[]) => nodes.map((node) => node.textContent));
  t.same(everyItem, after, 'and no optimistic copy is left beside a stored one');

  // Phone width: the conversation list, then a conversation.
  // (A mobile viewport reloads the page: the tab's stored session signs Ada back in.)
  await ada.page.setViewport(PHONE);
  await ada.page.waitForSelector('nav .conversation', { visible: true, timeout: 15_000 });
  await ada.page.waitForNetworkIdle();
  await shot(ada, 'phone-conversations');
  await openConversation(ada.page, 'Bob');
  await waitForMessages(ada.page, whileAway);
  await shot(ada, 'phone-dm');
  await ada.page.click('button[aria-label="Back to conversations"]');
  await ada.page.waitForSelector('nav .conversation', { visible: true });

  t.same(ada.errors(), [], 'no console errors for Ada');
  t.same([...ada.tab.foreignRequests(), ...bob.tab.foreignRequests()], [], 'no request leaves the origin');
  t.same(bob.errors(), [], 'no console errors for Bob');
  const stray = ada.tab.requests.filter((url) => !/^(ws|http):\/\/127\.0\.0\.1:\d+\/(app|api\/v1\/)|^data:/.test(url));
  t.same(stray, [], 'the page loads only /app, its assets and the API (no favicon 404)');
});
