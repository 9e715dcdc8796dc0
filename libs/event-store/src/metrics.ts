import { Counter, Histogram } from 'prom-client';

export const storeMetrics = {
  appended: new Counter({ name: 'event_store_events_appended_total', help: 'Events written by group commits' }),
  batches: new Histogram({
    name: 'event_store_batch_events',
    help: 'Events per group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  }),
  commitSeconds: new Histogram({
    name: 'event_store_commit_seconds',
    help: 'Time from taking a batch to its COMMIT',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
  failures: new Counter({ name: 'event_store_batch_failures_total', help: 'Group commits that failed', labelNames: ['reason'] }),
};
