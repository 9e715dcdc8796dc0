import { Counter, Gauge, Histogram } from 'prom-client';

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const nginxMetrics = {
  renders: new Counter({
    name: 'nginx_renders_total',
    help: 'Render jobs by outcome (swapped, unchanged, failed)',
    labelNames: ['node', 'outcome'],
  }),
  reloads: new Counter({ name: 'nginx_reloads_total', help: 'nginx reloads issued (including rollbacks)', labelNames: ['node'] }),
  failures: new Counter({ name: 'nginx_render_failures_total', help: 'Failed renders by stage', labelNames: ['node', 'stage'] }),
  lastSuccess: new Gauge({
    name: 'nginx_last_success_timestamp_seconds',
    help: 'When a render last left nginx serving the current routes',
    labelNames: ['node'],
  }),
  configInfo: new Gauge({ name: 'nginx_config_info', help: 'Hash of the routes nginx serves (value 1)', labelNames: ['node', 'hash'] }),
  routes: new Gauge({ name: 'nginx_routes', help: 'Host names in the last rendered map', labelNames: ['node'] }),
  skippedRows: new Gauge({ name: 'nginx_skipped_rows', help: 'Rows refused by the allow-lists in the last render', labelNames: ['node'] }),
  skippedTotal: new Counter({
    name: 'nginx_skipped_rows_total',
    help: 'Rows refused by the allow-lists, summed over renders',
    labelNames: ['node'],
  }),
  renderSeconds: new Histogram({
    name: 'nginx_render_duration_seconds',
    help: 'Query + render + test + swap + reload',
    labelNames: ['node'],
    buckets: seconds,
  }),
  testSeconds: new Histogram({
    name: 'nginx_test_duration_seconds',
    help: 'nginx -t on a candidate',
    labelNames: ['node'],
    buckets: seconds,
  }),
  reloadSeconds: new Histogram({
    name: 'nginx_reload_duration_seconds',
    help: 'Reload until the new hash is served',
    labelNames: ['node'],
    buckets: seconds,
  }),
  liveDeltaSeconds: new Histogram({
    name: 'nginx_live_delta_duration_seconds',
    help: 'Live routes: a delta from taking the pending containers to nginx confirming it (lock wait, read, push)',
    labelNames: ['node'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
  livePushes: new Counter({
    name: 'nginx_live_pushes_total',
    help: 'Live route pushes by kind (snapshot, delta, conflict: nginx refused the base, mismatch: its answer differed)',
    labelNames: ['node', 'kind'],
  }),
};
