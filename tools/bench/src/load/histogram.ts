/** A histogram in transit: its non-empty buckets as [index, count] and its exact max. */
export interface SparseHistogram {
  buckets: [number, number][];
  max: number;
}

/**
 * A latency histogram of non-negative integer microseconds with bounded memory: exact below 2,048 µs, then 1,024
 * sub-buckets per power of two (relative error under 0.1 %), up to about 2^36 µs (19 hours); larger values land in
 * the last bucket. `max` is exact. Recording is O(1) and allocation-free, so it can sit on the receive hot path.
 */
export class LatencyHistogram {
  private static readonly LINEAR = 2048;
  private static readonly SUB = 1024;
  private static readonly BUCKETS = 2048 + 26 * 1024;
  private readonly counts = new Float64Array(LatencyHistogram.BUCKETS);
  private total = 0;
  private maxValue = 0;

  /** Adds one sample; negative values (clock noise) count as 0. */
  record(micros: number): void {
    const v = micros > 0 ? Math.floor(micros) : 0;
    this.counts[LatencyHistogram.indexOf(v)]!++;
    this.total++;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.total;
  }

  /** Largest sample, exactly (0 when empty). */
  get max(): number {
    return this.maxValue;
  }

  /** The value at percentile `p` (0..100): the lowest bucket value with at least p % of samples at or below it. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(LatencyHistogram.valueOf(i), this.maxValue);
    }
    return this.maxValue;
  }

  /** The non-empty buckets and the exact max, to send to another process and `merge` there. */
  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, max: this.maxValue };
  }

  /** Adds the samples of another histogram (from `toSparse`). */
  merge(other: SparseHistogram): void {
    for (const [index, count] of other.buckets) {
      if (index >= 0 && index < this.counts.length) {
        this.counts[index]! += count;
        this.total += count;
      }
    }
    if (other.max > this.maxValue) this.maxValue = other.max;
  }

  /** Forgets every sample. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxValue = 0;
  }

  private static indexOf(v: number): number {
    if (v < LatencyHistogram.LINEAR) return v;
    const shift = (v < 2 ** 31 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v))) - 10;
    const index = LatencyHistogram.LINEAR + (shift - 1) * LatencyHistogram.SUB + (Math.floor(v / 2 ** shift) - 1024);
    return Math.min(index, LatencyHistogram.BUCKETS - 1);
  }

  /** The upper bound of bucket `i`, so percentiles never understate. */
  private static valueOf(i: number): number {
    if (i < LatencyHistogram.LINEAR) return i;
    const shift = Math.floor((i - LatencyHistogram.LINEAR) / LatencyHistogram.SUB) + 1;
    const sub = (i - LatencyHistogram.LINEAR) % LatencyHistogram.SUB;
    return (1024 + sub + 1) * 2 ** shift - 1;
  }
}
