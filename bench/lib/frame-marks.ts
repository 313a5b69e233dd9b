/**
 * What the gateway scenarios look for in raw frames without parsing JSON (the load generator's
 * CPU is the limit): the send number that travels in a message's content after `bench#`, and the
 * `ack` / `error` frame types.
 */
export const MARK = Buffer.from('bench#');
export const ACK = Buffer.from('"type":"ack"');
export const ERROR = Buffer.from('"type":"error"');

/** Parses the decimal number after the `bench#` at `at` (up to the first non-digit). */
export function benchNumber(data: Buffer, at: number): number {
  let n = 0;
  for (let i = at + MARK.length; i < data.length; i++) {
    const c = data[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}
