import { readFileSync } from 'node:fs';
import t from 'tap';
import { findBinary, installCommand, systemPackages } from '../../scripts/system-deps.ts';

t.test('findBinary looks only on the given PATH', async (t) => {
  t.match(findBinary('sh', '/nonexistent:/bin:/usr/bin'), /\/sh$/);
  t.equal(findBinary('sh', '/nonexistent'), undefined);
  t.equal(findBinary('sh', ''), undefined);
});

t.test('the install command names every missing package, with sudo on each apt-get when asked', async (t) => {
  const missing = [
    { binary: 'chromium', aptPackage: 'chromium', neededBy: 'x' },
    { binary: 'redis-server', aptPackage: 'redis-server', neededBy: 'y' },
  ];
  t.equal(installCommand(missing), 'apt-get update && apt-get install -y --no-install-recommends chromium redis-server');
  t.equal(installCommand(missing, 'sudo '), 'sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium redis-server');
});

t.test('the suite lists chromium and redis-server', async (t) => {
  t.same(systemPackages.map((pkg) => pkg.aptPackage).sort(), ['chromium', 'redis-server']);
});

t.test('.ci/run installs every package of the list', async (t) => {
  const ciRun = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
  const installed = [...ciRun.matchAll(/apt-get install -y[^\n]*/g)].flatMap((match) => match[0].split(/\s+/));
  for (const pkg of systemPackages) {
    t.ok(installed.includes(pkg.aptPackage), `.ci/run installs ${pkg.aptPackage}`);
    t.match(ciRun, new RegExp(`command -v ${pkg.binary} `), `.ci/run checks for ${pkg.binary}`);
  }
});
