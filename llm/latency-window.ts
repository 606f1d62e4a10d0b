/** The last N latency samples of a provider, for percentiles that follow recent behaviour. */
export interface LatencySummary {
  count: number;
  lastMs: number | undefined;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
}

export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;
  private last: number | undefined;

  constructor(readonly size = 256) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('latency window size must be >= 1');
  }

  add(ms: number): void {
    this.last = ms;
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  /** Nearest-rank percentile over the window, `p` in (0, 100]. */
  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1];
  }

  summary(): LatencySummary {
    return {
      count: this.samples.length,
      lastMs: this.last,
      p50Ms: this.percentile(50),
      p99Ms: this.percentile(99),
      maxMs: this.samples.length ? Math.max(...this.samples) : undefined,
    };
  }
}
