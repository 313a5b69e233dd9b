import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { marked } from 'marked';
import { docsIndexPage, realtimeDocsPage, restDocsPage, sdkReadmePage } from './docs-pages.ts';

const require = createRequire(import.meta.url);

export interface DocsAsset {
  contentType: string;
  body: string;
}

/** The docs site's files, read once at start (about 1.2 MB, a few milliseconds). */
export interface DocsSite {
  restPage: string;
  indexPage(baseUrl: string): string;
  realtimePage(baseUrl: string): string;
  /** The SDK README as a page, or undefined when this build has none. */
  sdkPage(): Promise<string | undefined>;
  asset(name: string): DocsAsset | undefined;
}

/**
 * Redoc's sidebar footer shows a logo loaded from Redocly's CDN: the one request the bundle would
 * make to another origin (the CSP blocks it and the console reports it). Serve the bundle with an
 * inline image instead.
 */
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const INLINE_LOGO = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#8a8a8a"/></svg>')}`;

export async function loadDocsSite(projectRoot: string): Promise<DocsSite> {
  const ownAsset = (name: string) => readFile(path.join(projectRoot, 'src/docs/assets', name), 'utf8');
  const redoc = (await readFile(require.resolve('redoc/bundles/redoc.standalone.js'), 'utf8')).replaceAll(REDOC_CDN_LOGO, INLINE_LOGO);
  const javascript = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  const assets = new Map<string, DocsAsset>([
    ['redoc.standalone.js', { contentType: javascript, body: redoc }],
    ['redoc-init.js', { contentType: javascript, body: await ownAsset('redoc-init.js') }],
    ['asyncapi.css', { contentType: css, body: await readFile(require.resolve('@asyncapi/react-component/styles/default.min.css'), 'utf8') }],
    ['docs.css', { contentType: css, body: await ownAsset('docs.css') }],
  ]);
  const realtime = await readFile(path.join(projectRoot, 'generated/docs/realtime.html'), 'utf8');
  const readmePath = path.join(projectRoot, 'clients/typescript/README.md');
  let sdkPage: string | undefined;

  return {
    restPage: restDocsPage(),
    indexPage: docsIndexPage,
    realtimePage: (baseUrl) => realtimeDocsPage(realtime, baseUrl),
    async sdkPage() {
      // The README is part of the build (the sdk workspace); read it on first use, then keep it.
      if (sdkPage === undefined && existsSync(readmePath)) {
        sdkPage = sdkReadmePage(await marked.parse(await readFile(readmePath, 'utf8'), { gfm: true }));
      }
      return sdkPage;
    },
    asset: (name) => assets.get(name),
  };
}
