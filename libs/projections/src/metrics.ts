import { Gauge, Histogram } from 'prom-client';

export const projectionMetrics = {
  lagEvents: new Gauge({ name: 'projection_lag_events', help: 'Committed events not yet applied', labelNames: ['projection'] }),
  lagSeconds: new Gauge({
    name: 'projection_lag_seconds',
    help: 'Age of the oldest committed event not yet applied',
    labelNames: ['projection'],
  }),
  latency: new Histogram({
    name: 'projection_event_latency_seconds',
    help: 'From an event being recorded to its projection committing',
    labelNames: ['projection'],
    // Fine up to 1 s: the bench reads its p99 from these buckets (interpolated within one).
    buckets: [
      0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.5, 2, 5, 10,
    ],
  }),
  batchEvents: new Histogram({
    name: 'projection_batch_events',
    help: 'Events applied per projection transaction',
    labelNames: ['projection'],
    buckets: [1, 4, 16, 64, 256, 1024, 4096],
  }),
  leaseHeld: new Gauge({ name: 'projection_lease_held', help: '1 when this process is the active projector', labelNames: ['projection'] }),
};
