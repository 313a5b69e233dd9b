import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Validates real HTTP responses against generated/openapi.bundled.json: the status must be
 * documented for the operation, the content type listed, and the body must match the schema.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC_ID = 'https://parley.dev/openapi.json';

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, { $ref?: string; required?: boolean }>;
}
interface OperationObject {
  operationId: string;
  responses: Record<string, ResponseObject>;
}
type PathItem = Record<string, OperationObject>;

const spec = JSON.parse(readFileSync(path.join(root, 'generated/openapi.bundled.json'), 'utf8')) as {
  paths: Record<string, PathItem>;
  components: { responses: Record<string, ResponseObject>; headers: Record<string, { required?: boolean }> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...spec, $id: SPEC_ID } as object);

const templates = Object.keys(spec.paths)
  .map((template) => {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`,
    );
    return { template, params, pattern };
  })
  .sort((a, b) => a.params - b.params);

const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();

export function findOperation(method: string, urlPath: string): { template: string; operation: OperationObject } | undefined {
  for (const { template, pattern } of templates) {
    if (!pattern.test(urlPath)) continue;
    const operation = spec.paths[template]?.[method.toLowerCase()];
    if (operation) return { template, operation };
  }
  return undefined;
}

/** Returns a list of contract violations (empty when the response conforms). */
export function contractViolations(
  method: string,
  url: string,
  status: number,
  contentType: string | undefined,
  body: unknown,
): string[] {
  const urlPath = url.split('?')[0]!;
  const found = findOperation(method, urlPath);
  if (!found) {
    // Unknown routes, and known paths asked with a method they lack (openapi.yaml's description
    // promises the 405 for every path, since no operation can list it), answer with a problem document.
    const knownPath = templates.some(({ pattern }) => pattern.test(urlPath));
    if ((status === 404 || (status === 405 && knownPath)) && contentType?.startsWith('application/problem+json')) {
      return schemaViolations(`${SPEC_ID}#/components/schemas/Problem`, body, `${method} ${urlPath}`);
    }
    return [`${method} ${urlPath} is not in openapi.yaml`];
  }
  const { template, operation } = found;
  const label = `${method} ${template} -> ${status}`;
  const statusKey = operation.responses[String(status)] ? String(status) : operation.responses.default ? 'default' : undefined;
  if (!statusKey) return [`${label}: status ${status} is not documented`];
  let response = operation.responses[statusKey]!;
  let responsePointer = `${SPEC_ID}#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${statusKey}`;
  if (response.$ref) {
    const name = response.$ref.split('/').pop()!;
    response = spec.components.responses[name]!;
    responsePointer = `${SPEC_ID}#/components/responses/${name}`;
  }
  if (!response.content) {
    return body === undefined || body === '' ? [] : [`${label}: no body is documented but one was sent`];
  }
  const mediaType = contentType?.split(';')[0]?.trim();
  if (!mediaType || !response.content[mediaType]) {
    return [`${label}: content type ${mediaType ?? '(none)'} is not documented (${Object.keys(response.content).join(', ')})`];
  }
  if (!mediaType.includes('json')) return [];
  return schemaViolations(`${responsePointer}/content/${pointer(mediaType)}/schema`, body, label);
}

function schemaViolations(ref: string, body: unknown, label: string): string[] {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error) => `${label}: body${error.instancePath} ${error.message ?? 'is invalid'}`);
}

/** Rate-limit headers: documented on exactly the operations (and statuses) that send them. */
const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];

/**
 * Header violations: a required documented header that is missing, or (on a success or a 429) a
 * rate-limit header the response does not document.
 */
export function headerViolations(method: string, url: string, status: number, headers: Headers): string[] {
  const found = findOperation(method, url.split('?')[0]!);
  if (!found) return [];
  let response = found.operation.responses[String(status)];
  if (!response) return [];
  if (response.$ref) response = spec.components.responses[response.$ref.split('/').pop()!]!;
  const documented = new Map<string, boolean>();
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const resolved = header.$ref ? spec.components.headers[header.$ref.split('/').pop()!]! : header;
    documented.set(name.toLowerCase(), resolved.required === true);
  }
  const label = `${method} ${found.template} -> ${status}`;
  const violations: string[] = [];
  for (const [name, required] of documented) {
    if (required && !headers.has(name)) violations.push(`${label}: the required header ${name} is missing`);
  }
  if ((status >= 200 && status < 300) || status === 429) {
    for (const name of RATE_LIMIT_HEADERS) {
      if (headers.has(name) && !documented.has(name)) violations.push(`${label}: header ${name} is not documented`);
    }
  }
  return violations;
}

/**
 * The gateway close codes asyncapi.yaml documents: the rows of the `## Close codes` table in its
 * info description (generated/asyncapi.bundled.json), so the test client checks every close code
 * it receives against the spec, not against a second list.
 */
export const documentedCloseCodes: ReadonlySet<number> = (() => {
  const asyncapi = JSON.parse(readFileSync(path.join(root, 'generated/asyncapi.bundled.json'), 'utf8')) as { info: { description: string } };
  const [, after = ''] = asyncapi.info.description.split(/^## Close codes$/m);
  const rows = after.trimStart().split('\n');
  const end = rows.findIndex((line) => !line.startsWith('|'));
  const table = end === -1 ? rows : rows.slice(0, end);
  const codes = table.flatMap((line) => /^\| (\d{4}) \|/.exec(line)?.slice(1) ?? []).map(Number);
  if (codes.length === 0) throw new Error('asyncapi.yaml: no "## Close codes" table in info.description');
  return new Set(codes);
})();
