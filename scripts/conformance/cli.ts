/**
 * `npm run conformance -- --base URL [--admin-email E --admin-password P]`
 *
 * Drives a running Parley deployment through every operation of the OpenAPI document it serves
 * and through its WebSocket gateway, checking every response and frame against the documents it
 * serves (`/openapi.json`, `/asyncapi.yaml`). One line per check, then `N passed, N failed`; the
 * exit code is 1 when anything failed (2 for bad arguments). The admin password may come from
 * PARLEY_CONFORMANCE_ADMIN_PASSWORD instead, to keep it out of the process list and CI logs.
 */
import { parseArgs } from 'node:util';
import { AsyncApiContract } from './asyncapi-contract.ts';
import { OpenApiContract } from './openapi-contract.ts';
import { Report, StepFailed } from './report.ts';
import { RestClient } from './rest-client.ts';
import { runScenario } from './scenario.ts';
import { fetchDocument, SpecSet } from './served-specs.ts';

const usage = 'usage: npm run conformance -- --base URL [--admin-email E --admin-password P]';

export interface ConformanceOptions {
  base: string;
  admin?: { email: string; password: string } | undefined;
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ConformanceOptions {
  const { values } = parseArgs({
    args: argv,
    options: { base: { type: 'string' }, 'admin-email': { type: 'string' }, 'admin-password': { type: 'string' } },
    strict: true,
  });
  if (!values.base) throw new Error('--base is required');
  const base = new URL(values.base);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('--base must be an http(s) URL');
  const email = values['admin-email'] ?? env.PARLEY_CONFORMANCE_ADMIN_EMAIL;
  const password = values['admin-password'] ?? env.PARLEY_CONFORMANCE_ADMIN_PASSWORD;
  if (Boolean(email) !== Boolean(password)) throw new Error('--admin-email and --admin-password go together');
  return { base: base.toString().replace(/\/+$/, ''), admin: email && password ? { email, password } : undefined };
}

/** The whole run; returns the report (the caller decides the exit code). */
export async function runConformance(options: ConformanceOptions, report = new Report()): Promise<Report> {
  const { base } = options;
  report.info(`conformance of ${base}${options.admin ? ` (admin ${options.admin.email})` : ' (no admin credentials)'}`);
  const specs = new SpecSet();
  const openApiUrl = `${base}/openapi.json`;
  let rest: RestClient;
  let gateway: AsyncApiContract;
  try {
    const openApi = await fetchDocument(openApiUrl);
    await specs.add(openApiUrl, openApi.document);
    rest = new RestClient(base, new OpenApiContract(specs, openApiUrl), report);
    rest.check('getOpenApiJson', openApi.status, openApi.headers, openApi.text);
  } catch (error) {
    report.fail('getOpenApiJson', `cannot read the served OpenAPI document: ${(error as Error).message}`);
    return report;
  }
  const asyncApiUrl = `${base}/asyncapi.yaml`;
  try {
    const asyncApi = await fetchDocument(asyncApiUrl);
    rest.check('getAsyncApiYaml', asyncApi.status, asyncApi.headers, asyncApi.text);
    // Refs such as ./openapi.yaml resolve against the served URL, as any consumer's tool would.
    await specs.add(asyncApiUrl, asyncApi.document);
    gateway = new AsyncApiContract(specs, asyncApiUrl);
  } catch (error) {
    report.fail('getAsyncApiYaml', `cannot use the served AsyncAPI document: ${(error as Error).message}`);
    return report;
  }
  report.info(
    `served contract: ${rest.contract.operations.size} operations, ${gateway.serverFrames.size} server and ${gateway.clientFrames.size} client frame types`,
  );

  await runScenario({ base, rest, gateway, report, admin: options.admin });

  // Operations the walk does not know (added since): a public GET without parameters is simply
  // fetched and checked; anything else is reported as not exercised, which is a failure.
  for (const operation of rest.contract.operations.values()) {
    if (report.exercised.has(operation.operationId) || report.skipped.has(operation.operationId)) continue;
    if (operation.method === 'GET' && operation.isPublic && !operation.path.includes('{') && operation.requiredParameters.length === 0) {
      try {
        await rest.call(operation.operationId, { expect: [200], note: '(generic GET)' });
      } catch (error) {
        if (!(error instanceof StepFailed)) throw error;
      }
      continue;
    }
    report.fail(operation.operationId, `${operation.method} ${operation.path}: not exercised by the conformance run`);
  }
  return report;
}

async function main(): Promise<number> {
  let options: ConformanceOptions;
  try {
    options = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const report = await runConformance(options);
  report.summary();
  return report.failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();
