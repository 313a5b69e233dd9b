import type { FastifyReply } from 'fastify';
import type { DocsSite } from '../docs/docs-site.ts';
import { DOCS_CSP } from '../docs/docs-pages.ts';
import { ProblemError } from '../errors.ts';
import { pathOf, type HandlerGroup } from './handler-types.ts';

export interface DocsDeps {
  site: DocsSite;
  /** The public base URL (PUBLIC_URL or the listen address). */
  publicUrl: () => string;
}

/** The docs pages answer under their own CSP (src/docs/docs-pages.ts) instead of helmet's default. */
function sendDocs(reply: FastifyReply, contentType: string, body: string) {
  return reply.header('content-security-policy', DOCS_CSP).type(contentType).send(body);
}

const HTML = 'text/html; charset=utf-8';

export function createDocsHandlers(
  deps: DocsDeps,
): HandlerGroup<'getRestDocs' | 'getDocsIndex' | 'getRealtimeDocs' | 'getSdkReadme' | 'getDocsAsset'> {
  return {
    getRestDocs: async (_request, reply) => sendDocs(reply, HTML, deps.site.restPage),
    getDocsIndex: async (_request, reply) => sendDocs(reply, HTML, deps.site.indexPage(deps.publicUrl())),
    getRealtimeDocs: async (_request, reply) => sendDocs(reply, HTML, deps.site.realtimePage(deps.publicUrl())),
    async getSdkReadme(_request, reply) {
      const page = await deps.site.sdkPage();
      if (page === undefined) throw new ProblemError('not_found', 'This build has no SDK README (clients/typescript/README.md).');
      return sendDocs(reply, HTML, page);
    },
    async getDocsAsset(request, reply) {
      const { asset } = pathOf<'getDocsAsset'>(request);
      const file = deps.site.asset(asset);
      if (file === undefined) throw new ProblemError('not_found', `The docs asset ${JSON.stringify(asset)} does not exist.`);
      reply.header('cache-control', 'public, max-age=300');
      return sendDocs(reply, file.contentType, file.body);
    },
  };
}
