/** Lints both contracts: openapi.yaml with Redocly, asyncapi.yaml with the AsyncAPI parser. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAsyncApiArtifacts } from './gen-asyncapi.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const redocly = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', 'openapi.yaml'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  child.on('close', (code) => resolve(code ?? 1));
});

let asyncapiOk = true;
try {
  // Parsing validates the document and throws on every error-severity diagnostic.
  await generateAsyncApiArtifacts(root);
  console.log('asyncapi.yaml: valid AsyncAPI 3.0');
} catch (error) {
  asyncapiOk = false;
  console.error(`asyncapi.yaml: ${(error as Error).message}`);
}
process.exit(redocly === 0 && asyncapiOk ? 0 : 1);
