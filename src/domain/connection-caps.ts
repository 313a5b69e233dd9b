/**
 * Caps on open gateway connections: in total and per client IP (WS_MAX_CONNECTIONS,
 * WS_MAX_CONNECTIONS_PER_IP). `open` takes a slot or says which cap refused it; every opened slot
 * is given back exactly once with `close`. Only addresses with open connections are kept.
 */
export type CapRefusal = 'total' | 'per_ip';

export class ConnectionCaps {
  readonly #maxTotal: number;
  readonly #maxPerIp: number;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerIp: number) {
    this.#maxTotal = maxTotal;
    this.#maxPerIp = maxPerIp;
  }

  /** Takes a slot for a connection from `ip`, or returns the cap that refuses it. */
  open(ip: string): CapRefusal | null {
    if (this.#total >= this.#maxTotal) return 'total';
    const count = this.#perIp.get(ip) ?? 0;
    if (count >= this.#maxPerIp) return 'per_ip';
    this.#perIp.set(ip, count + 1);
    this.#total += 1;
    return null;
  }

  /** Gives back the slot of a connection from `ip` that `open` accepted. */
  close(ip: string): void {
    const count = this.#perIp.get(ip);
    if (count === undefined) return;
    if (count <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, count - 1);
    this.#total -= 1;
  }

  get total(): number {
    return this.#total;
  }

  countOf(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** Addresses with at least one open connection. */
  get addresses(): number {
    return this.#perIp.size;
  }
}
