import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { operations } from '../../generated/operations.ts';
import { launchBrowser, openPage } from '../helpers/browser.ts';
import { build } from '../helpers/build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const asyncapi = JSON.parse(readFileSync(path.join(root, 'generated/asyncapi.published.json'), 'utf8')) as {
  components: { messages: Record<string, { payload: { properties: { type: { const: string } } } }> };
};
const frameTypes = Object.values(asyncapi.components.messages).map((message) => message.payload.properties.type.const);

t.test('the docs pages render every operation and frame in a real browser, offline, under their CSP', async (t) => {
  const { baseUrl } = await build(t);
  const browser = await launchBrowser(t);

  t.test('GET /docs: the REST reference (Redoc) shows every operationId', async (t) => {
    const tab = await openPage(t, browser, baseUrl);
    t.equal(await tab.goto('/docs'), 200);
    // Redoc has rendered when the operations' anchors exist (ids like "tag/ops/operation/getHealth").
    await tab.page.waitForSelector('[id$="/operation/getRestDocs"]', { timeout: 120_000 });
    const html = await tab.html();
    const missing = operations.map((op) => op.operationId).filter((id) => !html.includes(`/operation/${id}"`));
    t.same(missing, [], `all ${operations.length} operations are rendered`);
    t.match(await tab.text(), /Send a message|messages/i, 'summaries are shown');
    t.same(tab.consoleErrors, [], 'no console errors');
    t.same(tab.foreignRequests(), [], 'no request leaves the origin');
    t.ok(tab.requests.some((url) => url.endsWith('/openapi.json')), 'the page loaded /openapi.json');
    t.ok(await tab.screenshot('docs-rest'), 'screenshot saved');
  });

  t.test('GET /docs/realtime: the gateway reference shows every frame type, auth, heartbeat, resume and the close codes', async (t) => {
    const tab = await openPage(t, browser, baseUrl);
    t.equal(await tab.goto('/docs/realtime'), 200);
    const text = await tab.text();
    t.same(frameTypes.filter((type) => !text.includes(type)), [], `all ${frameTypes.length} frame types are shown`);
    for (const topic of ['Connecting and authenticating', 'Heartbeat', 'Resume', '4009', '4004', '4007']) {
      t.ok(text.includes(topic), `shows ${topic}`);
    }
    t.ok(text.includes(`ws://${new URL(baseUrl).host}`), 'names this server');
    t.same(tab.consoleErrors, [], 'no console errors');
    t.same(tab.foreignRequests(), [], 'no request leaves the origin');
    t.ok(await tab.screenshot('docs-realtime'), 'screenshot saved');
    await tab.scrollToId('message-send_message');
    t.ok(await tab.screenshot('docs-realtime-send-message'), 'screenshot of a frame saved');
  });

  t.test('GET /docs/: the index links both references and the four specs; every link answers 200 or the SDK 404', async (t) => {
    const tab = await openPage(t, browser, baseUrl);
    t.equal(await tab.goto('/docs/'), 200);
    const links = await tab.links();
    for (const target of ['/docs', '/docs/realtime', '/docs/sdk', '/openapi.json', '/openapi.yaml', '/asyncapi.json', '/asyncapi.yaml']) {
      t.ok(links.includes(new URL(target, baseUrl).href), `links ${target}`);
    }
    t.same(tab.consoleErrors, [], 'no console errors');
    t.same(tab.foreignRequests(), [], 'no request leaves the origin');
    t.ok(await tab.screenshot('docs-index'), 'screenshot saved');
  });
});
