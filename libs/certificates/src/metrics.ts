import { Counter, Gauge } from 'prom-client';

export const certificateMetrics = {
  notAfter: new Gauge({
    name: 'certificate_not_after_timestamp_seconds',
    help: 'Expiry of the certificate Stage 1 serves, per subject (org-<uuid> or gateway)',
    labelNames: ['subject'],
  }),
  failures: new Gauge({
    name: 'certificate_consecutive_failures',
    help: 'Failed attempts in a row per subject (0 after a success); the last good certificate keeps serving',
    labelNames: ['subject'],
  }),
  attempts: new Counter({
    name: 'certificate_attempts_total',
    help: 'Certificate orders by outcome (issued, renewed, failed) and failing stage',
    labelNames: ['outcome', 'stage'],
  }),
  budgetRefusals: new Counter({
    name: 'acme_budget_refusals_total',
    help: 'Orders not placed because a CA rate limit would be crossed',
    labelNames: ['limit'],
  }),
  installs: new Counter({ name: 'certificate_installs_total', help: 'Stage 1 certificate installs by outcome', labelNames: ['outcome'] }),
};
