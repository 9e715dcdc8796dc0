/** Nearest-rank percentile of raw samples (p in 0..100). */
export function percentile(samples: number[], p: number): number | null {
  if (!samples.length) return null;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Cumulative bucket counts of one Prometheus histogram series: le -> count. */
export type Buckets = Map<number, number>;

/** Reads `<name>_bucket{...label="value"...,le="x"} n` lines from a /metrics text. */
export function histogramBuckets(metrics: string, name: string, label?: [string, string]): Buckets {
  const out: Buckets = new Map();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    if (label && !line.includes(`${label[0]}="${label[1]}"`)) continue;
    const le = /le="([^"]+)"/.exec(line)![1];
    out.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/**
 * The q-quantile of what was observed between two scrapes of a histogram, interpolated linearly
 * inside its bucket (as PromQL's histogram_quantile does). Null when nothing was observed.
 */
export function histogramQuantile(before: Buckets, after: Buckets, q: number): { value: number; count: number } | null {
  const les = [...after.keys()].sort((a, b) => a - b);
  const delta = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = delta[delta.length - 1];
  if (!total) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (delta[i] >= rank) {
      const lower = i === 0 ? 0 : les[i - 1];
      const below = i === 0 ? 0 : delta[i - 1];
      if (les[i] === Infinity) return { value: lower, count: total };
      const inBucket = delta[i] - below;
      return { value: lower + (les[i] - lower) * (inBucket ? (rank - below) / inBucket : 1), count: total };
    }
  }
  return null;
}

/** A histogram's _sum or _count (for one projection, or unlabelled), from a /metrics page. */
function histogramTotal(page: string, name: string, projection?: string): number {
  const labels = projection ? `\\{projection="${projection}"\\}` : '';
  const m = new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(page);
  return m ? Number(m[1]) : 0;
}

/** The gateway's group commits between two scrapes of its /metrics: how many, and their mean size. */
export function appendBatchesBetween(before: string, after: string): { batches: number; events_per_batch: number | null } {
  const total = (page: string, what: 'sum' | 'count') => histogramTotal(page, `event_store_batch_events_${what}`);
  const batches = total(after, 'count') - total(before, 'count');
  return { batches, events_per_batch: batches ? Math.round((10 * (total(after, 'sum') - total(before, 'sum'))) / batches) / 10 : null };
}

/** Batches a projection committed between two /metrics pages, and their mean size. */
export function batchesBetween(before: string, after: string, projection: string): { batches: number; events_per_batch: number | null } {
  const total = (page: string, what: 'sum' | 'count') => histogramTotal(page, `projection_batch_events_${what}`, projection);
  const batches = total(after, 'count') - total(before, 'count');
  return { batches, events_per_batch: batches ? Math.round((total(after, 'sum') - total(before, 'sum')) / batches) : null };
}
