/**
 * The web client's other features in a real browser: sign in, upward infinite scroll through
 * history, jump to a message, reply, edit and delete, browsing and joining public rooms, guilds
 * with channels. Accounts and history are set up over the API; everything the user does goes
 * through the page.
 */
import t from 'tap';
import { build, register as registerApi } from '../helpers/build.ts';
import { createRoom, expectStatus, sendMany } from '../helpers/chat.ts';
import { PASSWORD, PHONE, fillPanel, launch, open, openConversation, send, shot, shownMessages, waitForMessages } from '../helpers/webapp-page.ts';

// Functions passed to page.evaluate / waitForFunction run in the page (see webapp-page.ts).
declare const document: any;

t.test('history, jump, reply, edit, delete, rooms and guilds in /app', async (t) => {
  const { api, baseUrl } = await build(t);
  const unique = Date.now().toString(36).slice(-5);
  const ada = await registerApi(api, { username: `ada${unique}`, email: `ada${unique}@example.com`, display_name: 'Ada' });
  const bob = await registerApi(api, { username: `bob${unique}`, email: `bob${unique}@example.com`, display_name: 'Bob' });
  const archive = await createRoom(api, ada, { name: `archive-${unique}`, visibility: 'private' });
  const sent = await sendMany(api, ada, archive.id, 120, 'old');
  const garden = await createRoom(api, bob, { name: `garden-${unique}`, visibility: 'public', description: 'Tomatoes and such' });

  const browser = await launch(t);
  const user = await open(t, browser, baseUrl, 'ada');
  const { page } = user;
  page.on('dialog', (dialog) => void dialog.accept());

  // Sign in with the username.
  await page.type('input[name=login]', ada.user.username);
  await page.type('input[name=password]', PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('textarea[aria-label=Message]');

  // Upward infinite scroll: 50 newest first, older pages as the list is scrolled to the top.
  await openConversation(page, `archive-${unique}`);
  await waitForMessages(page, ['old 119']);
  t.equal((await shownMessages(page)).length, 50, 'the newest 50 messages first');
  for (let round = 0; round < 10 && !(await page.$('.messages .start')); round += 1) {
    const before = (await shownMessages(page)).length;
    await page.$eval('.messages', (element: any) => {
      element.scrollTop = 0;
      element.dispatchEvent(new Event('scroll'));
    });
    await page.waitForFunction((count: number) => document.querySelectorAll('.messages .message[data-message-id]').length > count || document.querySelector('.messages .start'), {}, before);
  }
  const all = await shownMessages(page);
  t.same(all, sent.map((message) => message.content), 'scrolling up reaches the first message: all 120, in order, once each');
  await shot(user, 'desktop-history-top');

  // Jump to a message (the link a search result or a bookmark uses).
  await page.goto(`${baseUrl}/app#/c/${archive.id}/m/${sent[7]!.id}`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.message.highlight');
  t.equal(await page.$eval('.message.highlight .text', (n: any) => n.textContent), 'old 7', 'the linked message is shown, highlighted');

  // Reply, edit and delete my own messages.
  await openConversation(page, `archive-${unique}`);
  await waitForMessages(page, ['old 119']);
  await page.focus(`.message[data-message-id="${sent[119]!.id}"]`);
  await page.click(`.message[data-message-id="${sent[119]!.id}"] button[aria-label="Reply to Ada"]`);
  t.match(await page.$eval('.replying', (n: any) => n.textContent), /Replying to Ada: old 119/);
  await send(page, 'a reply to the last one');
  await waitForMessages(page, ['a reply to the last one']);
  t.match(await page.$eval('.message:last-child .reply-ref', (n: any) => n.textContent), /Ada: old 119/, 'the reply quotes its message');
  const reply = (await api('GET', `/api/v1/channels/${archive.id}/messages?limit=1`, { token: ada.token })).body.items[0];
  t.equal(reply.reply_to_id, sent[119]!.id, 'stored as a reply');

  await page.focus('.message:last-child');
  await page.click('.message:last-child button[aria-label="Edit message"]');
  const editor = await page.waitForSelector('input[aria-label="Edit message"]');
  await editor!.click({ count: 3 });
  await page.keyboard.type('an edited reply');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.message:last-child .content')?.textContent?.includes('an edited reply (edited)'));
  const edited = await expectStatus(api('GET', `/api/v1/channels/${archive.id}/messages/${reply.id}`, { token: ada.token }), [200], 'read edited');
  t.equal(edited.content, 'an edited reply', 'the edit is stored');

  await page.focus(`.message[data-message-id="${sent[118]!.id}"]`);
  await page.click(`.message[data-message-id="${sent[118]!.id}"] button[aria-label="Delete message"]`);
  await page.waitForFunction((id: string) => !document.querySelector(`.message[data-message-id="${id}"]`), {}, sent[118]!.id);
  t.equal((await api('GET', `/api/v1/channels/${archive.id}/messages/${sent[118]!.id}`, { token: ada.token })).status, 404, 'the deleted message is gone');
  t.notOk((await shownMessages(page)).includes('old 118'), 'and gone from the page');

  // Browse public rooms and join one.
  await page.click('::-p-xpath(//nav//button[normalize-space(.)="Browse rooms"])');
  await page.waitForSelector(`button[aria-label="Join garden-${unique}"]`);
  await shot(user, 'desktop-browse-rooms');
  await page.click(`button[aria-label="Join garden-${unique}"]`);
  await page.waitForFunction((name: string) => document.querySelector('#channel-title')?.textContent?.includes(name), {}, `garden-${unique}`);
  const members = await expectStatus(api('GET', `/api/v1/channels/${garden.id}/members`, { token: bob.token }), [200], 'members');
  t.ok(members.items.some((member: { user: { id: string } }) => member.user.id === ada.user.id), 'Ada is a member of the room she joined');

  // A guild with a channel.
  await fillPanel(page, 'New guild', { 'Guild name': `Guild ${unique}` }, 'Create guild');
  await page.waitForSelector('::-p-xpath(//p[contains(., "Guild created.")])');
  await (await page.waitForSelector(`::-p-xpath(//label[contains(., "New channel in Guild ${unique}")]//input)`))!.type('announcements');
  await page.click('::-p-xpath(//button[normalize-space(.)="Create channel"])');
  await page.waitForFunction(() => document.querySelector('#channel-title')?.textContent?.includes('announcements'));
  await send(page, 'Welcome to the guild');
  await waitForMessages(page, ['Welcome to the guild']);
  t.ok(await page.$(`::-p-xpath(//nav//li[contains(@class, "guild")][contains(., "Guild ${unique}")]//button[contains(., "announcements")])`), 'the guild and its channel are in the sidebar');
  await shot(user, 'desktop-guild');

  // Phone width: the sign-in screen of a new visitor, and the rooms list.
  const visitor = await open(t, browser, baseUrl, 'visitor');
  await visitor.page.setViewport(PHONE);
  await visitor.page.waitForSelector('input[name=login]');
  await shot(visitor, 'phone-sign-in');

  t.same(user.errors(), [], 'no console errors');
  t.same(user.tab.foreignRequests(), [], 'no request leaves the origin');
  t.same(visitor.errors(), [], 'no console errors for the visitor');
});
