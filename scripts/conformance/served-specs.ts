/**
 * The contract as a deployment serves it: `/openapi.json` and `/asyncapi.yaml` fetched from the
 * base URL, every external `$ref` (today asyncapi.yaml points at `./openapi.yaml#/…`) fetched
 * relative to the document that holds it, and all of them loaded into one Ajv instance under
 * their absolute URLs, so refs resolve exactly as a consumer's tooling would resolve them.
 *
 * Deliberately imports nothing from src/ or generated/: a consumer runs this against someone
 * else's server, and what it checks must be what that server publishes.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface FetchedDocument {
  url: string;
  status: number;
  contentType: string | undefined;
  headers: Headers;
  text: string;
  document: Json;
}

/** Parses a spec by media type (JSON, else YAML, which also reads JSON). */
export function parseDocument(text: string, contentType: string | undefined): Json {
  return (contentType?.includes('json') ? JSON.parse(text) : parseYaml(text)) as Json;
}

export async function fetchDocument(url: string): Promise<FetchedDocument> {
  const response = await fetch(url);
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? undefined;
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return { url, status: response.status, contentType, headers: response.headers, text, document: parseDocument(text, contentType) };
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every `$ref` string in a document. */
function refsOf(node: Json, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsOf(item, found);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refsOf(value, found);
    }
  }
  return found;
}

/** A JSON Pointer segment, escaped (`/` → `~1`, `~` → `~0`). */
export const pointerSegment = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** The value at a JSON Pointer (`/a/b`), or undefined. */
export function atPointer(document: Json, pointer: string): Json | undefined {
  let node: Json | undefined = document;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isObject(node)) node = node[segment];
    else return undefined;
  }
  return node;
}

/**
 * The served documents by absolute URL (without fragment), with one Ajv that knows them all.
 * External refs are followed up to a small bound (a hostile server cannot make us crawl).
 */
export class SpecSet {
  readonly documents = new Map<string, Json>();
  readonly ajv: Ajv2020;
  #validators = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
  }

  /** Adds a document under its URL and fetches what its external refs point at. */
  async add(url: string, document: Json, maxDocuments = 10): Promise<void> {
    const pending: Array<{ url: string; document: Json }> = [{ url, document }];
    while (pending.length > 0) {
      const next = pending.shift()!;
      if (this.documents.has(next.url)) continue;
      this.documents.set(next.url, next.document);
      this.ajv.addSchema(asSchemaRoot(next.document) as object, next.url);
      for (const ref of refsOf(next.document)) {
        const target = new URL(ref, next.url);
        target.hash = '';
        const targetUrl = target.toString();
        if (this.documents.has(targetUrl) || pending.some((item) => item.url === targetUrl)) continue;
        if (this.documents.size + pending.length >= maxDocuments) throw new Error(`more than ${maxDocuments} documents referenced from ${url}`);
        const fetched = await fetchDocument(targetUrl);
        pending.push({ url: targetUrl, document: fetched.document });
      }
    }
  }

  /** Follows `$ref`s from a location until a node without one (across documents). */
  resolve(url: string, pointer: string): { url: string; pointer: string; node: Json | undefined } {
    let location = { url, pointer };
    for (let hops = 0; hops < 20; hops += 1) {
      const document = this.documents.get(location.url);
      const node = document === undefined ? undefined : atPointer(document, location.pointer);
      if (!isObject(node) || typeof node.$ref !== 'string') return { ...location, node };
      const target = new URL(node.$ref, location.url);
      const fragment = decodeURIComponent(target.hash.replace(/^#/, ''));
      target.hash = '';
      location = { url: target.toString(), pointer: fragment };
    }
    throw new Error(`$ref loop at ${url}#${pointer}`);
  }

  /** A validator for the schema at `url#pointer` (compiled once). */
  validator(url: string, pointer: string): ValidateFunction {
    const key = `${url}#${pointer}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.#validators.set(key, validate);
    }
    return validate;
  }
}

/**
 * The document as Ajv may hold it: an AsyncAPI root `id` (the application's URN) is no schema
 * keyword, but Ajv refuses a root `id` as draft-04's spelling of `$id`.
 */
function asSchemaRoot(document: Json): Json {
  if (!isObject(document) || typeof document.id !== 'string') return document;
  const { id: _applicationId, ...rest } = document;
  return rest;
}

/** Ajv errors as short `at /path: message` strings. */
export function describeErrors(validate: ValidateFunction, prefix: string): string[] {
  return (validate.errors ?? []).slice(0, 5).map((error) => `${prefix}${error.instancePath || ''} ${error.message ?? 'is invalid'}`.trim());
}

export { isObject };
export type { JsonObject };
