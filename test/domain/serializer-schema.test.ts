import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import t from 'tap';
import { serializerSchema } from '../../src/domain/serializer-schema.ts';

t.test('serializerSchema: a oneOf of one scalar type and null becomes a type array; nothing else changes (table)', async (t) => {
  const table: Array<[name: string, input: unknown, output: unknown]> = [
    ['nullable id', { oneOf: [{ type: 'string', pattern: '^[0-9]+$' }, { type: 'null' }] }, { type: ['string', 'null'], pattern: '^[0-9]+$' }],
    ['null first, description kept', { description: 'd', anyOf: [{ type: 'null' }, { type: 'string', format: 'date-time' }] }, { type: ['string', 'null'], format: 'date-time', description: 'd' }],
    ['two non-null options stay', { oneOf: [{ type: 'string' }, { type: 'integer' }] }, { oneOf: [{ type: 'string' }, { type: 'integer' }] }],
    ['an object option stays', { oneOf: [{ type: 'object', properties: {} }, { type: 'null' }] }, { oneOf: [{ type: 'object', properties: {} }, { type: 'null' }] }],
    ['an enum option stays', { oneOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] }, { oneOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] }],
    ['three options stay', { oneOf: [{ type: 'string' }, { type: 'null' }, { type: 'integer' }] }, { oneOf: [{ type: 'string' }, { type: 'null' }, { type: 'integer' }] }],
    ['nested in properties and items', { type: 'object', properties: { a: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'null' }] } } } }, { type: 'object', properties: { a: { type: 'array', items: { type: ['string', 'null'] } } } }],
    ['examples are values, not schemas', { examples: [{ oneOf: [{ type: 'string' }, { type: 'null' }] }] }, { examples: [{ oneOf: [{ type: 'string' }, { type: 'null' }] }] }],
  ];
  for (const [name, input, output] of table) t.same(serializerSchema(input), output, name);
  const untouched = { type: 'object', properties: { a: { type: 'string' } } };
  t.equal(serializerSchema(untouched), untouched, 'an unchanged schema is returned as it is');
});

/** The contract's schema with its local $refs inlined (as fastify-openapi-glue hands it to Fastify). */
function contractSchema(name: string): unknown {
  const spec = JSON.parse(readFileSync(new URL('../../generated/openapi.bundled.json', import.meta.url), 'utf8'));
  const inline = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(inline);
    if (typeof value !== 'object' || value === null) return value;
    const ref = (value as { $ref?: string }).$ref;
    if (ref) return inline(spec.components.schemas[ref.replace('#/components/schemas/', '')]);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, key === 'examples' ? inner : inline(inner)]));
  };
  return inline(spec.components.schemas[name]);
}

t.test('serializerSchema: a history page serialises to the same bytes as through the contract schema', async (t) => {
  const schema = contractSchema('MessageListResponse');
  t.not(JSON.stringify(serializerSchema(schema)), JSON.stringify(schema), 'the page schema has nullable oneOfs to rewrite');
  const author = (lastSeen: string | null) => ({
    id: '7262148410531840002', username: 'ada', display_name: 'Ada "the first" \u2028', role: 'client', active: true,
    created_at: '2026-11-21T05:12:51.000Z', updated_at: '2026-11-21T05:12:51.000Z', last_seen_at: lastSeen,
  });
  const page = {
    items: [
      { id: '7262150123456700002', channel_id: '7262148663541760001', author: author('2026-11-21T06:00:00.000Z'), content: 'a reply\n', nonce: 'n-1', reply_to_id: '7262150123456700001', created_at: '2026-11-21T06:00:00.000Z', edited_at: '2026-11-21T06:01:00.000Z' },
      { id: '7262150123456700001', channel_id: '7262148663541760001', author: author(null), content: 'hello', nonce: null, reply_to_id: null, created_at: '2026-11-21T05:59:00.000Z', edited_at: null },
    ],
    has_more: true,
  };
  const bytes = async (responseSchema: unknown) => {
    const app = Fastify();
    app.get('/', { schema: { response: { 200: responseSchema as object } } }, async () => page);
    const response = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    return response.body;
  };
  const expected = await bytes(schema);
  t.equal(await bytes(serializerSchema(schema)), expected, 'same bytes');
  t.same(JSON.parse(expected), page, 'and they are the page');
});
