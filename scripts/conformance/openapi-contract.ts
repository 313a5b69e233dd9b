/**
 * The served OpenAPI document as a checker: operations by operationId (method, path template,
 * security), and the violations of one real response (status documented, media type documented,
 * body valid against the schema, documented headers present and valid).
 */
import { describeErrors, isObject, pointerSegment, type Json, type JsonObject, type SpecSet } from './served-specs.ts';

export interface Operation {
  operationId: string;
  method: string;
  path: string;
  /** Public (`security: []`) operations need no credentials. */
  isPublic: boolean;
  /** Names of required parameters (path and query). */
  requiredParameters: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export class OpenApiContract {
  readonly specs: SpecSet;
  readonly url: string;
  readonly operations = new Map<string, Operation>();

  constructor(specs: SpecSet, url: string) {
    this.specs = specs;
    this.url = url;
    const document = specs.documents.get(url);
    if (!isObject(document) || !isObject(document.paths)) throw new Error(`${url} has no paths: not an OpenAPI document`);
    const rootSecurity = document.security;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!isObject(item)) continue;
      for (const method of METHODS) {
        const operation = item[method];
        if (!isObject(operation) || typeof operation.operationId !== 'string') continue;
        const security = operation.security ?? rootSecurity;
        const parameterPointers = [
          ...(Array.isArray(item.parameters) ? item.parameters.map((_, index) => `/paths/${pointerSegment(path)}/parameters/${index}`) : []),
          ...(Array.isArray(operation.parameters)
            ? operation.parameters.map((_, index) => `/paths/${pointerSegment(path)}/${method}/parameters/${index}`)
            : []),
        ];
        const requiredParameters: string[] = [];
        for (const pointer of parameterPointers) {
          const parameter = specs.resolve(url, pointer).node;
          if (isObject(parameter) && parameter.required === true && typeof parameter.name === 'string') requiredParameters.push(parameter.name);
        }
        this.operations.set(operation.operationId, {
          operationId: operation.operationId,
          method: method.toUpperCase(),
          path,
          isPublic: Array.isArray(security) && security.length === 0,
          requiredParameters,
        });
      }
    }
  }

  /** Every way a response breaks the operation's documented responses (empty when it conforms). */
  violations(operationId: string, status: number, headers: Headers, text: string): string[] {
    const operation = this.operations.get(operationId);
    if (!operation) return [`${operationId} is not in the served OpenAPI document`];
    const operationPointer = `/paths/${pointerSegment(operation.path)}/${operation.method.toLowerCase()}`;
    const responses = this.specs.resolve(this.url, `${operationPointer}/responses`).node;
    if (!isObject(responses)) return [`${operationId} documents no responses`];
    const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((key) => key in responses);
    if (!statusKey) return [`status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`];
    const response = this.specs.resolve(this.url, `${operationPointer}/responses/${statusKey}`);
    if (!isObject(response.node)) return [`response ${statusKey} cannot be resolved`];
    const violations = this.#headerViolations(response.url, response.pointer, response.node, headers);
    const content = response.node.content;
    if (!isObject(content) || Object.keys(content).length === 0) {
      if (text !== '') violations.push(`a ${status} documents no body but one was sent (${text.length} bytes)`);
      return violations;
    }
    const contentType = headers.get('content-type') ?? undefined;
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
    const documented = Object.keys(content).find((key) => key.toLowerCase() === mediaType) ??
      Object.keys(content).find((key) => key === '*/*' || (key.endsWith('/*') && mediaType?.startsWith(key.slice(0, -1))));
    if (!mediaType || !documented) {
      violations.push(`content type ${mediaType ?? '(none)'} is not documented for ${status} (${Object.keys(content).join(', ')})`);
      return violations;
    }
    if (!/[/+]json$/.test(mediaType)) return violations;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      violations.push(`the ${mediaType} body is not valid JSON`);
      return violations;
    }
    const schemaPointer = `${response.pointer}/content/${pointerSegment(documented)}/schema`;
    if (this.specs.resolve(response.url, schemaPointer).node === undefined) return violations;
    const validate = this.specs.validator(response.url, schemaPointer);
    if (!validate(body)) violations.push(...describeErrors(validate, 'body'));
    return violations;
  }

  /** Required documented headers must be present; documented headers that are present must match their schema. */
  #headerViolations(url: string, pointer: string, response: JsonObject, headers: Headers): string[] {
    const violations: string[] = [];
    if (!isObject(response.headers)) return violations;
    for (const name of Object.keys(response.headers)) {
      const header = this.specs.resolve(url, `${pointer}/headers/${pointerSegment(name)}`);
      if (!isObject(header.node)) continue;
      const value = headers.get(name);
      if (value === null) {
        if (header.node.required === true) violations.push(`the required header ${name} is missing`);
        continue;
      }
      const schema = header.node.schema;
      if (!isObject(schema)) continue;
      const validate = this.specs.validator(header.url, `${header.pointer}/schema`);
      if (!validate(coerceHeader(value, schema))) violations.push(...describeErrors(validate, `header ${name}`));
    }
    return violations;
  }
}

/** A header value as the type its (simple) schema names, so `integer` headers validate. */
function coerceHeader(value: string, schema: JsonObject): Json {
  const type = schema.type;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
