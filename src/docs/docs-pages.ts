/**
 * The docs site's pages and its Content-Security-Policy (pure: strings in, strings out).
 *
 * Every URL in the pages is relative, so the site also works behind a proxy under a path prefix
 * (PUBLIC_URL=https://example.com/chat). The pages live at /docs, /docs/ and /docs/*: "x" is
 * resolved against /docs by the first and against /docs/ by the others.
 */

/**
 * The docs pages' policy, instead of helmet's default: scripts only from this origin and never
 * evaluated from strings; Redoc injects its styles (styled-components) and runs its search index in
 * a blob: worker; images may be inline data: URIs. Nothing may be loaded from another origin.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The host the generated realtime page names; replaced by the public URL's host when served. */
export const PUBLIC_HOST_PLACEHOLDER = 'parley-public-url.invalid';

/** An empty inline icon, so that browsers do not request /favicon.ico (a 404) for the docs pages. */
export const FAVICON = '<link rel="icon" href="data:,">';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `prefix` turns a path relative to /docs/ into one relative to the page (".": /docs/*, "docs/": /docs). */
export function docsNav(prefix: string, current: 'index' | 'rest' | 'realtime' | 'sdk'): string {
  const link = (href: string, label: string, key: typeof current) =>
    `<a href="${href}"${key === current ? ' aria-current="page"' : ''}>${label}</a>`;
  return (
    '<nav class="parley-docs-nav">' +
    link(`${prefix}./`, 'Parley docs', 'index') +
    link(`${prefix}../docs`, 'REST API', 'rest') +
    link(`${prefix}realtime`, 'Real-time gateway', 'realtime') +
    link(`${prefix}sdk`, 'TypeScript SDK', 'sdk') +
    '</nav>'
  );
}

function page(options: { title: string; bodyClass: string; assets: string; head?: string; body: string }): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(options.title)}</title>`,
    // No /favicon.ico: the browser would ask for one and log the 404.
    FAVICON,
    `<link rel="stylesheet" href="${options.assets}docs.css">`,
    options.head ?? '',
    '</head>',
    `<body class="${options.bodyClass}">`,
    options.body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** GET /docs: Redoc, from this server, rendering GET /openapi.json. */
export function restDocsPage(): string {
  return page({
    title: 'Parley — REST API reference',
    bodyClass: 'parley-rest',
    assets: 'docs/assets/',
    body: [
      // /docs resolves "docs/x" to /docs/x.
      docsNav('docs/', 'rest'),
      '<div id="redoc-container" data-spec-url="openapi.json"></div>',
      '<script src="docs/assets/redoc.standalone.js"></script>',
      '<script src="docs/assets/redoc-init.js"></script>',
    ].join('\n'),
  });
}

/** GET /docs/: what there is, and where. */
export function docsIndexPage(baseUrl: string): string {
  const base = escapeHtml(baseUrl);
  const ws = escapeHtml(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`);
  return page({
    title: 'Parley — documentation',
    bodyClass: 'parley-index',
    assets: 'assets/',
    body: [
      docsNav('', 'index'),
      '<main class="parley-index-main">',
      '<h1>Parley documentation</h1>',
      `<p>REST API base URL: <code>${base}/api/v1</code> · WebSocket gateway: <code>${ws}</code></p>`,
      '<ul class="parley-cards">',
      '<li><a href="../docs"><strong>REST API reference</strong></a><span>Every operation of <code>/api/v1</code> with its parameters, bodies, responses and problem codes.</span></li>',
      '<li><a href="realtime"><strong>Real-time gateway reference</strong></a><span>Every client and server frame with its schema and example, authentication, heartbeat, resume and close codes.</span></li>',
      '<li><a href="sdk"><strong>TypeScript SDK</strong></a><span>The README of <code>@parley/client</code>: typed REST and gateway client with auto-resume.</span></li>',
      '</ul>',
      '<h2>The contracts</h2>',
      '<p>Self-contained documents (no external <code>$ref</code>) whose <code>servers</code> name this server; generate clients and models from them.</p>',
      '<ul class="parley-specs">',
      '<li>OpenAPI 3.1: <a href="../openapi.json">openapi.json</a> · <a href="../openapi.yaml">openapi.yaml</a></li>',
      '<li>AsyncAPI 3.0: <a href="../asyncapi.json">asyncapi.json</a> · <a href="../asyncapi.yaml">asyncapi.yaml</a></li>',
      '</ul>',
      '</main>',
    ].join('\n'),
  });
}

/** GET /docs/sdk: the SDK's README, already rendered to HTML. */
export function sdkReadmePage(readmeHtml: string): string {
  return page({
    title: 'Parley — TypeScript SDK',
    bodyClass: 'parley-sdk',
    assets: 'assets/',
    body: [docsNav('', 'sdk'), `<main class="parley-markdown">${readmeHtml}</main>`].join('\n'),
  });
}

/** The generated realtime page with the public URL's host (and path prefix) in place of the placeholder. */
export function realtimeDocsPage(generated: string, baseUrl: string): string {
  const url = new URL(baseUrl);
  const secure = url.protocol === 'https:';
  const hostAndPrefix = `${url.host}${url.pathname.replace(/\/+$/, '')}`;
  return generated
    .replaceAll(`ws://${PUBLIC_HOST_PLACEHOLDER}`, `${secure ? 'wss' : 'ws'}://${hostAndPrefix}`)
    .replaceAll(PUBLIC_HOST_PLACEHOLDER, escapeHtml(hostAndPrefix));
}
