import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { build } from '../helpers/build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

t.test('the docs pages and assets: HTML and files from this server, under a CSP without eval or other origins', async (t) => {
  const { api } = await build(t);
  for (const page of ['/docs', '/docs/', '/docs/realtime']) {
    const response = await api('GET', page);
    t.equal(response.status, 200, page);
    t.match(response.headers.get('content-type'), /^text\/html/, `${page} is HTML`);
    const csp = response.headers.get('content-security-policy') ?? '';
    t.match(csp, "script-src 'self'", `${page}: scripts from this origin only`);
    t.notMatch(csp, 'unsafe-eval', `${page}: no eval`);
    t.notMatch(csp, /https?:/, `${page}: no other origin`);
    // Links to elsewhere are fine; nothing the page loads (script, style, image) may come from elsewhere.
    t.notMatch(response.text, /<(script|img|iframe)[^>]+src="(https?:)?\/\/|<link[^>]+href="(https?:)?\/\//, `${page} loads nothing from another origin`);
  }
  for (const [asset, type] of [['redoc.standalone.js', /^text\/javascript/], ['redoc-init.js', /^text\/javascript/], ['asyncapi.css', /^text\/css/], ['docs.css', /^text\/css/]] as const) {
    const response = await api('GET', `/docs/assets/${asset}`);
    t.equal(response.status, 200, asset);
    t.match(response.headers.get('content-type'), type, `${asset} content type`);
  }
  t.notMatch((await api('GET', '/docs/assets/redoc.standalone.js')).text, 'cdn.redoc.ly', "Redoc's CDN logo is replaced");
  const missing = await api('GET', '/docs/assets/nope.js');
  t.equal(missing.status, 404);
  t.equal(missing.body.code, 'not_found');
  // Other routes keep helmet's default policy.
  t.notMatch((await api('GET', '/health/live')).headers.get('content-security-policy') ?? '', 'blob:');
});

t.test('GET /docs/sdk: the SDK README as HTML, or a 404 problem when this build has none', async (t) => {
  const { api } = await build(t);
  const response = await api('GET', '/docs/sdk');
  if (existsSync(path.join(root, 'clients/typescript/README.md'))) {
    t.equal(response.status, 200);
    t.match(response.headers.get('content-type'), /^text\/html/);
    t.match(response.text, /<h1/);
  } else {
    t.equal(response.status, 404);
    t.equal(response.body.code, 'not_found');
    t.match(response.body.detail, 'clients/typescript/README.md');
  }
});
