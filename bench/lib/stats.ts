/** Small statistics and formatting helpers shared by the scenarios and the report. */

/** Percentile (0..100) of a numeric sample by nearest rank; NaN for an empty sample. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return sorted[rank]!;
}

/** Several percentiles with one sort. */
export function percentiles(values: ArrayLike<number>, ps: number[]): number[] {
  const n = values.length;
  if (n === 0) return ps.map(() => Number.NaN);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return ps.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function summarize(values: number[]): Summary {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values };
}

/** A growable Float64 sample buffer (latencies can reach millions of samples). */
export class Samples {
  #data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.#data = new Float64Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = value;
  }
  view(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
  clear(): void {
    this.length = 0;
  }
}

export function formatNumber(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  let text: string;
  if (abs >= 100_000) text = Math.round(value).toLocaleString('en-US');
  else if (abs >= 1000) text = Math.round(value).toLocaleString('en-US');
  else if (abs >= 100) text = value.toFixed(0);
  else if (abs >= 10) text = value.toFixed(1);
  else if (abs >= 1) text = value.toFixed(2);
  else text = value.toPrecision(2);
  return unit ? `${text} ${unit}` : text;
}

/** `median [min–max]`, or the single value when there is one repeat. */
export function formatSummary(summary: Summary, unit = ''): string {
  if (summary.values.length <= 1 || summary.min === summary.max) return formatNumber(summary.median, unit);
  return `${formatNumber(summary.median)} [${formatNumber(summary.min)}–${formatNumber(summary.max)}]${unit ? ` ${unit}` : ''}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
