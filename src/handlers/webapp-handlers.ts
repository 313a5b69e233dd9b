import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { notFound } from '../errors.ts';
import { pathOf, type HandlerGroup, type OperationHandler } from './handler-types.ts';

/**
 * The web client (clients/web/, bundled by `npm run gen` into generated/webapp/). Its own
 * Content-Security-Policy replaces helmet's default on these responses: everything from this origin,
 * nothing inline, no eval, no framing; connect-src 'self' covers fetch and the same-origin
 * WebSocket gateway (CSP 3 matches ws:/wss: of the page's host to 'self').
 */
export const WEBAPP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface WebAppDeps {
  projectRoot: string;
}

export function createWebAppHandlers(deps: WebAppDeps): HandlerGroup<'getWebApp' | 'getWebAppAsset'> {
  const folder = path.join(deps.projectRoot, 'generated/webapp');
  // The bundle changes only with `npm run gen` (and a restart): read each file once.
  const cache = new Map<string, Promise<string>>();
  const load = (name: string) => {
    let content = cache.get(name);
    if (!content) {
      content = readFile(path.join(folder, name), 'utf8');
      cache.set(name, content);
      content.catch(() => cache.delete(name));
    }
    return content;
  };

  const page: OperationHandler = async (_request, reply) => {
    const html = await load('index.html');
    return reply.header('content-security-policy', WEBAPP_CSP).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  };

  return {
    getWebApp: page,
    async getWebAppAsset(request, reply) {
      const { asset } = pathOf<'getWebAppAsset'>(request);
      const type = ASSET_TYPES[path.extname(asset)];
      // Only the bundle's own files: no index.html under another name, no path tricks (the
      // contract's pattern already refuses '/' and a leading dot).
      if (!type || asset.startsWith('index.')) throw notFound('asset');
      const content = await load(asset).catch(() => undefined);
      if (content === undefined) throw notFound('asset');
      return reply.header('content-security-policy', WEBAPP_CSP).header('cache-control', 'no-cache').type(type).send(content);
    },
  };
}
