/**
 * Preload for Parley's process that records what it ALLOCATES (garbage included), for finding what
 * feeds the GC: `--heap-prof` keeps only the samples still alive when it stops, so the short-lived
 * objects of a request, the ones the GC spends its time on, are missing from it. This asks V8's
 * sampling heap profiler to keep the samples of objects collected by minor and major GCs too.
 *
 *   npm run bench -- --scenario=history --repeat=1 --parley-node-args="--import=./bench/allocation-sampler.ts"
 *   node bench/allocation-summary.ts <dir>/alloc-<pid>.heapprofile --requests=N
 *
 * Written at exit to PARLEY_ALLOC_DIR (default: the system's temp folder). Sampling every 32 KiB
 * on average; each sample stands for its share of the bytes allocated.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';

const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', {
  samplingInterval: 32 * 1024,
  includeObjectsCollectedByMajorGC: true,
  // PARLEY_ALLOC_MINOR=0 leaves out what scavenges collect: what is left is what was promoted to the
  // old generation (or is still alive), the objects that make scavenges slow.
  includeObjectsCollectedByMinorGC: process.env.PARLEY_ALLOC_MINOR !== '0',
});
process.on('exit', () => {
  // A session on the main thread answers synchronously: the profile is written before the process ends.
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return;
    const file = path.join(process.env.PARLEY_ALLOC_DIR ?? os.tmpdir(), `alloc-${process.pid}.heapprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
  });
});
