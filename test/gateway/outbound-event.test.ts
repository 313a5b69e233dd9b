import t from 'tap';
import { frameBytes, outboundEvent, wsFrame } from '../../src/gateway/outbound-event.ts';

t.test('seq is spliced into the pre-serialized payload', async (t) => {
  const message = { id: '1', content: 'héllo "quoted" ✓' };
  const event = outboundEvent('message_created', { message });
  t.same(JSON.parse(frameBytes(event, 1).toString()), { type: 'message_created', seq: 1, message });
  t.same(JSON.parse(frameBytes(event, 123456).toString()), { type: 'message_created', seq: 123456, message });
  t.equal(frameBytes(event, 7).toString(), JSON.stringify({ type: 'message_created', seq: 7, message }), 'the exact JSON text');
  t.same(JSON.parse(frameBytes(outboundEvent('message_updated', {}), 2).toString()), { type: 'message_updated', seq: 2 }, 'empty payload');
});

/** Decodes one unmasked frame (RFC 6455 §5.2). */
function decode(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; payload: Buffer } {
  const fin = (frame[0]! & 0x80) !== 0;
  const opcode = frame[0]! & 0x0f;
  const masked = (frame[1]! & 0x80) !== 0;
  let length = frame[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = frame.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    length = Number(frame.readBigUInt64BE(2));
    offset = 10;
  }
  const payload = frame.subarray(offset);
  if (payload.length !== length) throw new Error(`length ${length} but ${payload.length} bytes follow`);
  return { fin, opcode, masked, payload };
}

t.test('wsFrame is one unmasked final text frame, for every length class', async (t) => {
  for (const size of [10, 100, 200, 70_000]) {
    const event = outboundEvent('message_created', { message: { content: 'x'.repeat(size) } });
    const { fin, opcode, masked, payload } = decode(wsFrame(event, 42));
    t.same({ fin, opcode, masked }, { fin: true, opcode: 1, masked: false }, `${size}: FIN, text, unmasked`);
    t.same(payload, frameBytes(event, 42), `${size}: the payload`);
  }
});
