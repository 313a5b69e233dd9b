import os from 'node:os';
import { assertOpsAccess } from '../auth/ops-access.ts';
import type { PublishedSpecs } from '../docs/published-specs.ts';
import { ProblemError } from '../errors.ts';
import type { HandlerGroup } from './handler-types.ts';

export interface OpsDeps {
  specs: PublishedSpecs;
  /** The public base URL the published specs name in `servers`. */
  publicUrl: () => string;
  version: string;
  startedAt: Date;
  databaseHealthy: () => Promise<boolean>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
}

export function createOpsHandlers(
  deps: OpsDeps,
): HandlerGroup<'getHealth' | 'getLiveness' | 'getReadiness' | 'getMetrics' | 'getOpenApiJson' | 'getOpenApiYaml' | 'getAsyncApiYaml' | 'getAsyncApiJson'> {
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
      return { status: 'ok' };
    },
    async getMetrics(request, reply) {
      assertOpsAccess(request);
      const { contentType, body } = await deps.metricsText();
      return reply.type(contentType).send(body);
    },
    getOpenApiJson: async (_request, reply) => reply.type('application/json').send(deps.specs.render('openapi', 'json', deps.publicUrl())),
    getOpenApiYaml: async (_request, reply) => reply.type('application/yaml').send(deps.specs.render('openapi', 'yaml', deps.publicUrl())),
    getAsyncApiJson: async (_request, reply) => reply.type('application/json').send(deps.specs.render('asyncapi', 'json', deps.publicUrl())),
    getAsyncApiYaml: async (_request, reply) => reply.type('application/yaml').send(deps.specs.render('asyncapi', 'yaml', deps.publicUrl())),
  };
}
