import t from 'tap';
import { outboundVerdict, type OutboundVerdict } from '../../src/domain/outbound-budget.ts';

const LIMIT = 1000;

const cases: Array<{ name: string; queued: number; bytes: number; backlog: number; verdict: OutboundVerdict }> = [
  { name: 'nothing queued', queued: 0, bytes: 10, backlog: 0, verdict: 'fits' },
  { name: 'a frame larger than the limit on an empty buffer still goes out', queued: 0, bytes: 5000, backlog: 0, verdict: 'fits' },
  { name: 'up to the limit exactly', queued: 900, bytes: 100, backlog: 0, verdict: 'fits' },
  { name: 'one byte past the limit', queued: 900, bytes: 101, backlog: 0, verdict: 'over' },
  { name: 'far past the limit', queued: 50_000, bytes: 10, backlog: 0, verdict: 'over' },
  { name: 'past the limit, within a resume backlog', queued: 3000, bytes: 100, backlog: 2500, verdict: 'backlog' },
  { name: 'up to limit + backlog exactly', queued: 3000, bytes: 100, backlog: 2100, verdict: 'backlog' },
  { name: 'past limit + backlog', queued: 3000, bytes: 101, backlog: 2100, verdict: 'over' },
  { name: 'a backlog drained below the limit: fits again', queued: 500, bytes: 100, backlog: 2100, verdict: 'fits' },
];

for (const { name, queued, bytes, backlog, verdict } of cases) {
  t.equal(outboundVerdict(queued, bytes, LIMIT, backlog), verdict, name);
}
