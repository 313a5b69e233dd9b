// Bundles the web client (clients/web/, Preact + @parley/client) into generated/webapp/ with
// esbuild, in memory: scripts/gen.ts writes the files, or compares them for gen:check. Everything
// that makes output vary between machines is pinned (no source maps, no absolute paths, fixed file
// names, no legal comments with paths), so the same sources give the same bytes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

export type GeneratedFile = { path: string; content: string };

const OUT_DIR = 'generated/webapp';

export async function generateWebAppArtifacts(root: string): Promise<GeneratedFile[]> {
  const appRoot = path.join(root, 'clients/web');
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: path.join(appRoot, 'src/main.tsx') },
    bundle: true,
    write: false,
    outdir: OUT_DIR,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(appRoot, 'tsconfig.json'),
    // The app imports only the SDK's public entry point. Bundled from its source (the workspace's
    // dist/ is built by `npm pack` only), so a fresh clone's `npm run gen` needs no SDK build first.
    alias: { '@parley/client': path.join(root, 'clients/typescript/src/index.ts') },
    logLevel: 'silent',
  });
  const files: GeneratedFile[] = result.outputFiles.map((file) => ({
    path: path.relative(root, file.path),
    content: file.text,
  }));
  files.push({ path: `${OUT_DIR}/index.html`, content: await readFile(path.join(appRoot, 'index.html'), 'utf8') });
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
