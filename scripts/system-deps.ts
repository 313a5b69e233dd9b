/**
 * System packages the test suite needs that npm cannot provide, in one list. `npm test` checks them
 * before anything else: a missing one is installed with apt-get when the run is root on a machine
 * that has apt-get (as in CI), otherwise the run stops with the exact command to type. Never a
 * silent skip.
 *
 * `node scripts/system-deps.ts` installs whatever is missing (`.ci/run` calls it).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SystemPackage {
  /** The executable the tests run, looked up on PATH. */
  binary: string;
  /** The Debian package that provides it. */
  aptPackage: string;
  /** Which tests need it, for the message. */
  neededBy: string;
}

export const systemPackages: SystemPackage[] = [
  { binary: 'chromium', aptPackage: 'chromium', neededBy: 'the browser tests (test/docs, test/app, test/sdk/browser.test.ts)' },
  { binary: 'redis-server', aptPackage: 'redis-server', neededBy: 'the multi-instance tests' },
];

/** The absolute path of `binary` on PATH, or undefined. */
export function findBinary(binary: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export function installCommand(missing: SystemPackage[], sudo = ''): string {
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${missing.map((pkg) => pkg.aptPackage).join(' ')}`;
}

/**
 * Makes every listed binary available or throws an Error whose message says what is missing, for
 * which tests, and the command that installs it.
 */
export function ensureSystemPackages(packages: SystemPackage[] = systemPackages): void {
  const missing = packages.filter((pkg) => !findBinary(pkg.binary));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && findBinary('apt-get')) {
    console.log(`\n── installing ${missing.map((pkg) => pkg.aptPackage).join(', ')} from Debian (apt-get, running as root)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((pkg) => pkg.aptPackage)], { stdio: 'inherit', env })
      : update;
    const stillMissing = missing.filter((pkg) => !findBinary(pkg.binary));
    if (install.status === 0 && stillMissing.length === 0) return;
    throw new Error(`apt-get could not install ${stillMissing.map((pkg) => pkg.aptPackage).join(', ')}; try: ${installCommand(stillMissing)}`);
  }
  const lines = missing.map((pkg) => `  - ${pkg.binary} (Debian package ${pkg.aptPackage}), needed by ${pkg.neededBy}`);
  throw new Error(
    `The test suite needs system packages this machine lacks:\n${lines.join('\n')}\n` +
      `Install them with:\n  ${installCommand(missing, 'sudo ')}\nthen run npm test again.`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureSystemPackages();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
