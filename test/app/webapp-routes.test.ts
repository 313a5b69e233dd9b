/**
 * GET /app and its assets over real HTTP, checked against openapi.yaml by the `api` helper, and the
 * bundle build: deterministic (two builds give the same bytes) and small.
 */
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import t from 'tap';
import { generateWebAppArtifacts } from '../../scripts/gen-webapp.ts';
import { build } from '../helpers/build.ts';

const root = path.resolve(import.meta.dirname, '../..');

t.test('GET /app serves the page under a CSP without inline script or eval', async (t) => {
  const { api } = await build(t);
  const page = await api('GET', '/app');
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.match(page.text, /<script type="module" src="\/app\/app\.js"><\/script>/, 'the script is a file of this origin');
  t.notMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  t.notMatch(page.text, /\sstyle=|<style/, 'no inline style');
  const csp = page.headers.get('content-security-policy') ?? '';
  t.match(csp, /script-src 'self'/);
  t.match(csp, /connect-src 'self'/);
  t.notMatch(csp, /unsafe-(eval|inline)/, 'no unsafe-eval, no unsafe-inline');
  t.notMatch(csp, /https?:/, 'nothing from another origin');
});

t.test('GET /app/{asset} serves the bundle and 404s anything else', async (t) => {
  const { api } = await build(t);
  const script = await api('GET', '/app/app.js');
  t.equal(script.status, 200);
  t.match(script.headers.get('content-type'), /^text\/javascript/);
  t.match(script.headers.get('content-security-policy'), /default-src 'none'/);
  t.notMatch(script.text, /\beval\(|new Function\(/, 'the bundle needs no eval');
  const style = await api('GET', '/app/app.css');
  t.equal(style.status, 200);
  t.match(style.headers.get('content-type'), /^text\/css/);
  for (const asset of ['nope.js', 'index.html', 'app.js.map', 'app']) {
    const missing = await api('GET', `/app/${asset}`);
    t.equal(missing.status, 404, `${asset}: 404`);
    t.equal(missing.body.code, 'not_found');
  }
  const traversal = await api('GET', '/app/..%2Fpackage.json');
  t.equal(traversal.status, 400, 'a path outside the bundle is refused by the contract pattern');
  t.equal(traversal.body.code, 'validation_failed');
});

t.test('the bundle is deterministic and small', async (t) => {
  const first = await generateWebAppArtifacts(root);
  const second = await generateWebAppArtifacts(root);
  t.same(second, first, 'two builds give the same files');
  t.same(first.map((file) => file.path), ['generated/webapp/app.css', 'generated/webapp/app.js', 'generated/webapp/index.html']);
  const script = first.find((file) => file.path.endsWith('app.js'))!;
  const gzipped = gzipSync(script.content, { level: 9 }).length;
  t.comment(`app.js: ${script.content.length} bytes, ${gzipped} gzipped`);
  t.ok(gzipped < 40_000, `app.js gzipped (${gzipped} B) stays under 40 kB`);
});
