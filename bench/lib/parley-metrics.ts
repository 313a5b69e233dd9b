/** Reading Parley's GET /metrics (prom-client's text format) from the benchmark. */
import { metricsHeaders } from './servers.ts';

export async function fetchMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: metricsHeaders });
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}`);
  return response.text();
}

/** One sample's value; `labels` is a regex source for the label set (default: any or none). NaN when absent. */
export function metricValue(text: string, name: string, labels = '(?:\\{[^}]*\\})?'): number {
  return Number(new RegExp(`^${name}${labels}\\s+([0-9.eE+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/** Seconds the process has spent in V8's garbage collector so far, all kinds (prom-client's nodejs_gc_duration_seconds). */
export async function gcSeconds(baseUrl: string): Promise<number> {
  const text = await fetchMetrics(baseUrl);
  return ['minor', 'major', 'incremental'].reduce((sum, kind) => sum + (metricValue(text, 'nodejs_gc_duration_seconds_sum', `\\{kind="${kind}"\\}`) || 0), 0);
}
