import type { ServerEventFrameType } from '../../generated/asyncapi-types.ts';

/**
 * A server event frame serialized once for every recipient. A recipient's frame is
 * `head + seq + tail`: `{"type":"message_created","seq":` + `17` + `,"message":{...}}`, so a
 * fan-out to N sessions serializes the payload once and per session only copies bytes.
 */
export interface OutboundEvent {
  readonly type: ServerEventFrameType;
  readonly head: Buffer;
  readonly tail: Buffer;
  /** Date.now() when the event was published (resume window; fan-out latency uses `publishedAt`). */
  readonly at: number;
  /** performance.now() when the event was published. */
  readonly publishedAt: number;
}

const heads = new Map<string, Buffer>();

function headOf(type: ServerEventFrameType): Buffer {
  let head = heads.get(type);
  if (!head) {
    head = Buffer.from(`{"type":${JSON.stringify(type)},"seq":`);
    heads.set(type, head);
  }
  return head;
}

/** `payload` holds the frame's fields other than `type` and `seq`. */
export function outboundEvent(
  type: ServerEventFrameType,
  payload: Record<string, unknown>,
  at: number = Date.now(),
  publishedAt: number = performance.now(),
): OutboundEvent {
  const body = JSON.stringify(payload);
  const tail = body === '{}' ? Buffer.from('}') : Buffer.from(`,${body.slice(1)}`);
  return { type, head: headOf(type), tail, at, publishedAt };
}

/** The frame's JSON text (the WebSocket payload) of `event` with `seq` spliced in. */
export function frameBytes(event: OutboundEvent, seq: number): Buffer {
  return framed(event, seq, false);
}

/**
 * The complete WebSocket text frame (RFC 6455 header, unmasked as servers send, then the payload)
 * of `event` with `seq` spliced in: one buffer, so a recipient costs one allocation and one
 * socket write.
 */
export function wsFrame(event: OutboundEvent, seq: number): Buffer {
  return framed(event, seq, true);
}

function framed(event: OutboundEvent, seq: number, withHeader: boolean): Buffer {
  const digits = String(seq);
  const { head, tail } = event;
  const length = head.length + digits.length + tail.length;
  const headerLength = !withHeader ? 0 : length < 126 ? 2 : length < 65536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(headerLength + length);
  if (withHeader) {
    bytes[0] = 0x81; // FIN + text
    if (headerLength === 2) bytes[1] = length;
    else if (headerLength === 4) {
      bytes[1] = 126;
      bytes.writeUInt16BE(length, 2);
    } else {
      bytes[1] = 127;
      bytes.writeUInt32BE(0, 2);
      bytes.writeUInt32BE(length, 6);
    }
  }
  let offset = headerLength;
  offset += head.copy(bytes, offset);
  offset += bytes.write(digits, offset, 'latin1');
  tail.copy(bytes, offset);
  return bytes;
}
