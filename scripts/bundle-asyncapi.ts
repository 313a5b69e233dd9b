// Bundles asyncapi.yaml into the self-contained document the server publishes:
//   generated/asyncapi.published.json
//
// asyncapi.yaml refers to REST schemas with `$ref: './openapi.yaml#/components/schemas/X'`; saved
// alone it cannot be parsed. Each such schema (and every openapi schema it refers to) is copied
// into components/schemas under its own name and the reference becomes `#/components/schemas/X`.
// Internal references are kept: a fully dereferenced document (generated/asyncapi.bundled.json)
// loses the links between channels, operations and messages, and generators such as Modelina then
// find no messages at all.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const OPENAPI_SCHEMA_REF = /^\.\/openapi\.yaml#\/components\/schemas\/([A-Za-z0-9_.-]+)$/;
const LOCAL_SCHEMA_REF = /^#\/components\/schemas\/([A-Za-z0-9_.-]+)$/;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export async function bundleAsyncApi(root: string): Promise<JsonObject> {
  const asyncapi = YAML.parse(await readFile(path.join(root, 'asyncapi.yaml'), 'utf8')) as JsonObject;
  const openapi = YAML.parse(await readFile(path.join(root, 'openapi.yaml'), 'utf8')) as JsonObject;
  const openapiSchemas = (isObject(openapi.components) && isObject(openapi.components.schemas) ? openapi.components.schemas : {}) as JsonObject;
  const imported: JsonObject = {};
  const importSchema = (name: string): string => {
    if (imported[name] === undefined) {
      const source = openapiSchemas[name];
      if (source === undefined) throw new Error(`asyncapi.yaml refers to openapi.yaml#/components/schemas/${name}, which does not exist`);
      imported[name] = true; // placeholder: a schema may refer to itself
      imported[name] = rewrite(structuredClone(source), 'openapi');
    }
    return `#/components/schemas/${name}`;
  };

  function rewrite(node: Json, from: 'asyncapi' | 'openapi'): Json {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, from));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const external = OPENAPI_SCHEMA_REF.exec(value);
        const local = LOCAL_SCHEMA_REF.exec(value);
        if (from === 'asyncapi' && external) out[key] = importSchema(external[1]!);
        else if (from === 'openapi' && local) out[key] = importSchema(local[1]!);
        else if (from === 'asyncapi' && value.startsWith('#')) out[key] = value;
        else throw new Error(`cannot bundle the $ref ${value} (from ${from}.yaml)`);
      } else {
        out[key] = rewrite(value, from);
      }
    }
    return out;
  }

  const bundled = rewrite(asyncapi, 'asyncapi') as JsonObject;
  if (!isObject(bundled.components)) bundled.components = {};
  const components = bundled.components as JsonObject;
  const schemas = (isObject(components.schemas) ? components.schemas : {}) as JsonObject;
  for (const [name, schema] of Object.entries(imported)) {
    const existing = schemas[name];
    // `User: { $ref: './openapi.yaml#/components/schemas/User' }` (now a reference to itself) becomes the schema.
    const isAliasOfIt = isObject(existing) && Object.keys(existing).length === 1 && existing.$ref === `#/components/schemas/${name}`;
    if (existing !== undefined && !isAliasOfIt) {
      throw new Error(`asyncapi.yaml components/schemas/${name} differs from openapi.yaml's ${name}: rename one of them`);
    }
    schemas[name] = schema;
  }
  components.schemas = schemas;
  return bundled;
}
