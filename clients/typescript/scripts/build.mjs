// Builds dist/ (JS + .d.ts) with tsc; `node scripts/build.mjs DIR` builds into DIR instead. The sources import each other as `./x.ts` (so Node can run
// them directly); tsc rewrites those to `.js` in JS output but not in declarations: fix them here.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const out = path.resolve(process.argv[2] ?? path.join(pkg, 'dist'));
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(pkg, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
for (const file of walk(out).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2').replace(/(import\(['"]\.{1,2}\/[^'"]+)\.ts(['"]\))/g, '$1.js$2');
  if (fixed !== text) writeFileSync(file, fixed);
}
