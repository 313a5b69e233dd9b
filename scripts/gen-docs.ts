// Generates the gateway reference page (GET /docs/realtime) from the published (bundled) asyncapi.yaml:
//   generated/docs/realtime.html
//
// AsyncAPI's React component renders it here, server-side, once: its browser bundles (with or
// without the parser) compile JSON schemas with `new Function` while loading, which the docs' CSP
// (no 'unsafe-eval') refuses. The page therefore needs no script at all. Payload schemas are shown
// opened one level (a static page has no "expand" button that works); nested objects show their
// title and type.
// scripts/gen.ts calls generateDocsArtifacts() and writes (or compares) the file.

import { createRequire } from 'node:module';
import { Parser } from '@asyncapi/parser';
import { asyncApiWithServer } from '../src/domain/public-url.ts';
import { docsNav, escapeHtml, FAVICON, PUBLIC_HOST_PLACEHOLDER } from '../src/docs/docs-pages.ts';

const require = createRequire(import.meta.url);

/** The few React functions used here (the project has no @types/react; React is only a renderer's peer). */
interface ReactModule {
  createElement(type: unknown, props: unknown, ...children: unknown[]): unknown;
  createContext<T>(value: T): { Provider: unknown; readonly __value?: T };
  useContext<T>(context: { readonly __value?: T }): T;
}

export async function generateDocsArtifacts(bundledAsyncApi: object): Promise<Array<{ path: string; content: string }>> {
  const React = require('react') as ReactModule;
  const { renderToStaticMarkup } = require('react-dom/server') as { renderToStaticMarkup(element: unknown): string };
  openPayloadsOneLevel(React);
  const AsyncApi = (require('@asyncapi/react-component/lib/cjs/without-parser.js') as { default: unknown }).default;

  // The servers name a placeholder host that the server replaces with its public URL when serving.
  const document = asyncApiWithServer(bundledAsyncApi as Record<string, unknown>, `http://${PUBLIC_HOST_PLACEHOLDER}`);
  const { document: parsed, diagnostics } = await new Parser().parse(document as never);
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (parsed === undefined || errors.length > 0) {
    throw new Error(`the bundled AsyncAPI document does not parse on its own:\n${errors.map((d) => `  - ${d.message} at ${d.path.join('/')}`).join('\n')}`);
  }
  const markup = renderToStaticMarkup(
    React.createElement(AsyncApi as never, {
      schema: parsed,
      config: {
        show: { sidebar: false, info: true, servers: true, operations: true, messages: true, schemas: true, errors: true },
        expand: { messageExamples: true },
      },
    } as never),
  );
  const title = `${String(((bundledAsyncApi as { info?: unknown }).info as { title?: string } | undefined)?.title ?? 'Gateway')} — real-time reference`;
  const page = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    FAVICON,
    // Relative URLs: the page also works behind a proxy under a path prefix.
    '<link rel="stylesheet" href="assets/asyncapi.css">',
    '<link rel="stylesheet" href="assets/docs.css">',
    '</head>',
    '<body class="parley-realtime">',
    docsNav('', 'realtime'),
    `<main>${markup}</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return [{ path: 'generated/docs/realtime.html', content: page }];
}

/**
 * The component's Schema starts collapsed (its `expanded` prop defaults to false) and opens on a
 * click, which needs a script. Wrap the exported Schema (every other module reads it through the
 * module's exports at render time) so that a payload and its direct properties are shown open.
 */
function openPayloadsOneLevel(React: ReactModule): void {
  const module = require('@asyncapi/react-component/lib/cjs/components/Schema/Schema.js') as {
    Schema: ((props: Record<string, unknown>) => unknown) & { parleyWrapped?: boolean };
  };
  if (module.Schema.parleyWrapped) return;
  const original = module.Schema;
  const Depth = React.createContext(0);
  const wrapped = Object.assign(
    (props: Record<string, unknown>) => {
      const depth = React.useContext(Depth);
      return React.createElement(Depth.Provider, { value: depth + 1 }, original({ ...props, expanded: depth < 1 }) as never);
    },
    { parleyWrapped: true },
  );
  module.Schema = wrapped;
}
