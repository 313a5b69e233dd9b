import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertOpsAccess } from '../auth/ops-access.ts';
import { ProblemError } from '../errors.ts';
import type { HandlerGroup } from './handler-types.ts';

export interface OpsDeps {
  projectRoot: string;
  version: string;
  startedAt: Date;
  databaseHealthy: () => Promise<boolean>;
  /** The shared event bus's carrier (`redis`, `postgres`) when it is down; null when fine or unused. */
  busDown?: () => string | null;
  metricsText: () => Promise<{ contentType: string; body: string }>;
}

export function createOpsHandlers(
  deps: OpsDeps,
): HandlerGroup<'getHealth' | 'getLiveness' | 'getReadiness' | 'getMetrics' | 'getOpenApiJson' | 'getOpenApiYaml' | 'getAsyncApiYaml'> {
  const cache = new Map<string, string>();
  async function projectFile(relative: string): Promise<string> {
    let content = cache.get(relative);
    if (content === undefined) {
      content = await readFile(path.join(deps.projectRoot, relative), 'utf8');
      cache.set(relative, content);
    }
    return content;
  }

  return {
    async getHealth(request) {
      // Host, kernel, Node version and memory help an attacker: admins or OPS_TOKEN only.
      assertOpsAccess(request);
      if (!(await deps.databaseHealthy())) throw new ProblemError('service_unavailable', 'The database is unreachable.');
      const memory = process.memoryUsage();
      return {
        status: 'ok',
        version: deps.version,
        uptime_seconds: Math.round(process.uptime() * 1000) / 1000,
        started_at: deps.startedAt.toISOString(),
        checks: { database: 'ok' },
        system: {
          hostname: os.hostname(),
          platform: os.platform(),
          release: os.release(),
          arch: os.arch(),
          node_version: process.version,
          cpus: os.availableParallelism(),
          load_average: os.loadavg(),
          memory: {
            total_bytes: os.totalmem(),
            free_bytes: os.freemem(),
            rss_bytes: memory.rss,
            heap_used_bytes: memory.heapUsed,
          },
        },
      };
    },
    getLiveness: async () => ({ status: 'ok' }),
    async getReadiness() {
      if (!(await deps.databaseHealthy())) throw new ProblemError('service_unavailable', 'The database is unreachable.');
      // A gateway whose bus is lost would miss other instances' events: not ready (REST still serves).
      const bus = deps.busDown?.() ?? null;
      if (bus !== null) throw new ProblemError('service_unavailable', `The event bus (${bus === 'redis' ? 'Redis' : 'PostgreSQL LISTEN'}) is unreachable.`);
      return { status: 'ok' };
    },
    async getMetrics(request, reply) {
      assertOpsAccess(request);
      const { contentType, body } = await deps.metricsText();
      return reply.type(contentType).send(body);
    },
    async getOpenApiJson(_request, reply) {
      return reply.type('application/json').send(await projectFile('generated/openapi.bundled.json'));
    },
    async getOpenApiYaml(_request, reply) {
      return reply.type('application/yaml').send(await projectFile('openapi.yaml'));
    },
    async getAsyncApiYaml(_request, reply) {
      return reply.type('application/yaml').send(await projectFile('asyncapi.yaml'));
    },
  };
}
