/**
 * Summarises an allocation profile of bench/allocation-sampler.ts (or a `--heap-prof` file): bytes
 * allocated by function (self) and by stage of the stack (the innermost frame in src/ or a known
 * package), per request when `--requests=N` is given.
 *
 *   node bench/allocation-summary.ts <file.heapprofile> [--requests=N] [--top=30]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { profileCommandLine } from './lib/profile-cli.ts';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  id: number;
  children: HeapNode[];
}

const { file, option } = profileCommandLine('node bench/allocation-summary.ts <file.heapprofile> [--requests=N] [--top=30]');
const requests = Number(option('requests') ?? 0);
const top = Number(option('top') ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const short = (url: string) => url.replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/').replace(/^.*node_modules\//, 'nm/');
const nameOf = (node: HeapNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url ? `${short(url)}:${lineNumber + 1}` : ''}`.trim();
};
/** The package (or src/ folder) a frame belongs to: the "owner" of an allocation. */
const ownerOf = (node: HeapNode): string | null => {
  const url = node.callFrame.url;
  if (!url) return null;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^/]+)\//.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return url;
  return null;
};

const self = new Map<string, number>();
const byOwner = new Map<string, number>();
let total = 0;
const walk = (node: HeapNode, owner: string | null) => {
  const here = ownerOf(node) ?? owner;
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + node.selfSize);
    byOwner.set(here ?? '(native / VM)', (byOwner.get(here ?? '(native / VM)') ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(profile.head, null);
void root;

const fmt = (bytes: number) =>
  requests > 0 ? `${(bytes / requests).toFixed(0).padStart(8)} B/req` : `${(bytes / 1024).toFixed(0).padStart(8)} KiB`;
console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB sampled${requests > 0 ? `, ${(total / requests / 1024).toFixed(1)} KiB per request over ${requests} requests` : ''}`);
console.log('\nby package / src folder of the innermost frame that has one:');
for (const [name, bytes] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${((bytes / total) * 100).toFixed(1).padStart(5)}% ${fmt(bytes)}  ${name}`);
}
console.log('\nby function (self):');
for (const [name, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${((bytes / total) * 100).toFixed(1).padStart(5)}% ${fmt(bytes)}  ${name}`);
}
