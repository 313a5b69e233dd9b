/**
 * The served AsyncAPI 3 document as a frame checker. Server frames are the messages of the
 * operations with `action: send` (what the application sends), client frames those with
 * `action: receive`; each message's payload names its frame with `properties.type.const`.
 * Works whether the document is self-contained or `$ref`s the served openapi.yaml.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { describeErrors, isObject, pointerSegment, type SpecSet } from './served-specs.ts';

export interface FrameSchema {
  type: string;
  validate: ValidateFunction;
  /** An event frame: its payload requires `seq` (consecutive per session). */
  isEvent: boolean;
}

export class AsyncApiContract {
  readonly serverFrames = new Map<string, FrameSchema>();
  readonly clientFrames = new Map<string, FrameSchema>();
  /** The close codes the document mentions (in its descriptions), e.g. 4001. */
  readonly documentedCloseCodes = new Set<number>();
  /** The gateway's address (`channels.*.address`), e.g. `/api/v1/ws`. */
  readonly addresses: string[] = [];

  constructor(specs: SpecSet, url: string) {
    const document = specs.documents.get(url);
    if (!isObject(document) || typeof document.asyncapi !== 'string' || !document.asyncapi.startsWith('3.')) {
      throw new Error(`${url} is not an AsyncAPI 3 document`);
    }
    if (isObject(document.channels)) {
      for (const name of Object.keys(document.channels)) {
        const channel = specs.resolve(url, `/channels/${pointerSegment(name)}`).node;
        if (isObject(channel) && typeof channel.address === 'string') this.addresses.push(channel.address);
      }
    }
    const operations = isObject(document.operations) ? document.operations : {};
    for (const name of Object.keys(operations)) {
      const operationPointer = `/operations/${pointerSegment(name)}`;
      const operation = specs.resolve(url, operationPointer).node;
      if (!isObject(operation) || !Array.isArray(operation.messages)) continue;
      const target = operation.action === 'send' ? this.serverFrames : operation.action === 'receive' ? this.clientFrames : undefined;
      if (!target) continue;
      for (const [index] of operation.messages.entries()) {
        const message = specs.resolve(url, `${operationPointer}/messages/${index}`);
        if (!isObject(message.node)) throw new Error(`${name}: message ${index} cannot be resolved`);
        const payload = specs.resolve(message.url, `${message.pointer}/payload`);
        const typeProperty = isObject(payload.node) && isObject(payload.node.properties) ? payload.node.properties.type : undefined;
        const type = isObject(typeProperty) ? (typeProperty.const ?? (Array.isArray(typeProperty.enum) ? typeProperty.enum[0] : undefined)) : undefined;
        if (typeof type !== 'string') throw new Error(`${name}: the payload of message ${index} names no frame type (properties.type.const)`);
        const required = isObject(payload.node) && Array.isArray(payload.node.required) ? payload.node.required : [];
        target.set(type, { type, validate: specs.validator(message.url, `${message.pointer}/payload`), isEvent: required.includes('seq') });
      }
    }
    if (this.serverFrames.size === 0 || this.clientFrames.size === 0) throw new Error(`${url} lists no send/receive operations with messages`);
    // Close codes live in prose (AsyncAPI has no field for them): the 4xxx and 1xxx codes of any description.
    const text = JSON.stringify(document);
    for (const match of text.matchAll(/\b(1000|1001|1006|1011|1012|1013|4\d{3})\b/g)) this.documentedCloseCodes.add(Number(match[1]));
  }

  /** Violations of one server frame (empty when it conforms). */
  serverFrameViolations(frame: unknown): string[] {
    return this.#violations(this.serverFrames, frame, 'server');
  }

  clientFrameViolations(frame: unknown): string[] {
    return this.#violations(this.clientFrames, frame, 'client');
  }

  #violations(frames: Map<string, FrameSchema>, frame: unknown, side: string): string[] {
    if (!isObject(frame as never)) return [`a ${side} frame must be a JSON object`];
    const type = (frame as { type?: unknown }).type;
    const schema = typeof type === 'string' ? frames.get(type) : undefined;
    if (!schema) return [`${String(type)} is not a ${side} frame type of the served AsyncAPI document`];
    return schema.validate(frame) ? [] : describeErrors(schema.validate, type as string);
  }
}
