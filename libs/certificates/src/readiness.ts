import type { ReadinessCheck } from '@app/observability';
import type { CertificateStore } from './infra/store';

const WEEK = 7 * 86_400_000;

/**
 * `certificates` in the worker's /health/ready: every subject's status, failing ones named with
 * their stage and error. Down only when a failing subject has nothing good to serve, or what it
 * serves expires within a week; a failed renewal of a valid certificate shows, but keeps it up.
 */
export function readinessOf(store: CertificateStore): ReadinessCheck {
  return {
    name: 'certificates',
    check: async () => {
      const rows = await store.statuses();
      const now = Date.now();
      const failing = rows.filter((r) => r.failures > 0);
      const critical = failing.filter((r) => !r.not_after || new Date(r.not_after).getTime() - now < WEEK);
      return {
        up: critical.length === 0,
        details: {
          subjects: rows.length,
          failing: failing.map((r) => ({
            subject: r.subject,
            stage: r.failed_stage,
            error: String(r.last_error ?? '').slice(0, 300),
            failures: r.failures,
            retry_at: r.retry_at?.toISOString() ?? null,
            serving_until: r.not_after?.toISOString() ?? null,
          })),
        },
      };
    },
  };
}
