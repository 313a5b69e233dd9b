/**
 * The outbound buffer limit of a gateway connection (WS_MAX_BUFFERED_BYTES): may `bytes` more be
 * queued for a client that has `queued` bytes waiting to be read?
 *
 * - `fits`: within the limit, or nothing is queued (a healthy client always takes one frame, even
 *   one larger than the limit);
 * - `backlog`: over the limit but within `limit + backlog`, the bytes a resume replay queued at
 *   once (bounded by WS_RESUME_MAX_EVENTS): a client catching up is not a slow consumer until it
 *   has read that burst down below the limit;
 * - `over`: a slow consumer; the caller closes the connection instead of queueing.
 *
 * Pure and synchronous: the caller reads `queued` (ws's `bufferedAmount`) right before each write.
 */
export type OutboundVerdict = 'fits' | 'backlog' | 'over';

export function outboundVerdict(queued: number, bytes: number, limit: number, backlog: number): OutboundVerdict {
  if (queued === 0 || queued + bytes <= limit) return 'fits';
  if (queued + bytes <= limit + backlog) return 'backlog';
  return 'over';
}
