import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { exceedsJsonDepth, JSON_DEPTH_MESSAGE } from '../domain/json-depth.ts';
import { invalid } from '../errors.ts';

/**
 * `application/json` bodies: Fastify's own parser (which refuses `__proto__` and `constructor`
 * keys), behind a depth check on the raw text, so that no body nested thousands of levels deep
 * reaches anything recursive (a stack overflow would be a 500). Too deep: 400 naming the body.
 */
export default fp(
  async function jsonBodyPlugin(app: FastifyInstance) {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (exceedsJsonDepth(body as string)) {
        done(invalid('/', JSON_DEPTH_MESSAGE), undefined);
        return;
      }
      parseJson(request, body as string, done);
    });
  },
  { name: 'json-body' },
);
