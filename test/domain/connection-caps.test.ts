import t from 'tap';
import { ConnectionCaps, type CapRefusal } from '../../src/domain/connection-caps.ts';

type Step = { open: string; expect: CapRefusal | null } | { close: string };

const cases: Array<{ name: string; total: number; perIp: number; steps: Step[]; final: { total: number; addresses: number } }> = [
  {
    name: 'per-IP cap: the third from one address is refused, another address is not',
    total: 10,
    perIp: 2,
    steps: [
      { open: 'a', expect: null },
      { open: 'a', expect: null },
      { open: 'a', expect: 'per_ip' },
      { open: 'b', expect: null },
    ],
    final: { total: 3, addresses: 2 },
  },
  {
    name: 'a closed connection frees its slot for the same address',
    total: 10,
    perIp: 1,
    steps: [
      { open: 'a', expect: null },
      { open: 'a', expect: 'per_ip' },
      { close: 'a' },
      { open: 'a', expect: null },
    ],
    final: { total: 1, addresses: 1 },
  },
  {
    name: 'total cap across addresses; a close anywhere frees a slot',
    total: 2,
    perIp: 5,
    steps: [
      { open: 'a', expect: null },
      { open: 'b', expect: null },
      { open: 'c', expect: 'total' },
      { close: 'a' },
      { open: 'c', expect: null },
      { open: 'a', expect: 'total' },
    ],
    final: { total: 2, addresses: 2 },
  },
  {
    name: 'the total cap is checked first',
    total: 1,
    perIp: 1,
    steps: [
      { open: 'a', expect: null },
      { open: 'a', expect: 'total' },
    ],
    final: { total: 1, addresses: 1 },
  },
  {
    name: 'refused opens take no slot; closing an address with no slot changes nothing',
    total: 1,
    perIp: 1,
    steps: [
      { open: 'a', expect: null },
      { open: 'b', expect: 'total' },
      { close: 'b' },
      { close: 'a' },
      { close: 'a' },
    ],
    final: { total: 0, addresses: 0 },
  },
];

for (const { name, total, perIp, steps, final } of cases) {
  t.test(name, async (t) => {
    const caps = new ConnectionCaps(total, perIp);
    for (const [index, step] of steps.entries()) {
      if ('close' in step) caps.close(step.close);
      else t.equal(caps.open(step.open), step.expect, `step ${index}: open ${step.open}`);
    }
    t.same({ total: caps.total, addresses: caps.addresses }, final, 'slots held at the end');
  });
}
