/**
 * The ACME account's budget, kept inside Let's Encrypt's published limits
 * (https://letsencrypt.org/docs/rate-limits/) so a fleet of orgs never locks the account out:
 * - new orders per account: 300 per 3 hours;
 * - new certificates per registered domain: 50 per 7 days (renewals of the same names are exempt);
 * - duplicate certificates (the exact same names): 5 per 7 days;
 * - failed validations per account and hostname: 5 per hour.
 * Pure: the caller passes the account's recent orders and the clock.
 */
export interface OrderRecord {
  at: Date;
  names: string[];
  registeredDomain: string;
  kind: 'issue' | 'renew';
  outcome: 'pending' | 'valid' | 'invalid';
  /** Names whose validation failed in this order. */
  failedNames: string[];
}

export interface BudgetLimits {
  ordersPer3h: number;
  certsPerDomainPerWeek: number;
  duplicatesPerWeek: number;
  failedValidationsPerHostPerHour: number;
}

export const LETS_ENCRYPT_LIMITS: BudgetLimits = {
  ordersPer3h: 300,
  certsPerDomainPerWeek: 50,
  duplicatesPerWeek: 5,
  failedValidationsPerHostPerHour: 5,
};

export type BudgetAnswer = { ok: true } | { ok: false; limit: string; retryAt: Date };

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/** May the account place an order for `names` (`kind`) now? If not, which limit and when it frees. */
export function checkBudget(
  order: { names: string[]; registeredDomain: string; kind: 'issue' | 'renew' },
  history: readonly OrderRecord[],
  limits: BudgetLimits,
  now: Date,
): BudgetAnswer {
  const t = now.getTime();
  const key = order.names.join(',');
  const checks: { limit: string; max: number; window: number; times: number[] }[] = [
    { limit: 'orders_per_3h', max: limits.ordersPer3h, window: 3 * HOUR, times: history.map((o) => o.at.getTime()) },
    {
      limit: 'certs_per_registered_domain_per_week',
      max: order.kind === 'issue' ? limits.certsPerDomainPerWeek : Infinity,
      window: WEEK,
      times: history
        .filter((o) => o.kind === 'issue' && o.outcome === 'valid' && o.registeredDomain === order.registeredDomain)
        .map((o) => o.at.getTime()),
    },
    {
      limit: 'duplicate_certs_per_week',
      max: limits.duplicatesPerWeek,
      window: WEEK,
      times: history.filter((o) => o.outcome === 'valid' && o.names.join(',') === key).map((o) => o.at.getTime()),
    },
    ...order.names.map((name) => ({
      limit: 'failed_validations_per_host_per_hour',
      max: limits.failedValidationsPerHostPerHour,
      window: HOUR,
      times: history.filter((o) => o.failedNames.includes(name)).map((o) => o.at.getTime()),
    })),
  ];
  let refusal: { limit: string; retryAt: Date } | null = null;
  for (const c of checks) {
    const inWindow = c.times.filter((x) => x > t - c.window).sort((a, b) => a - b);
    if (inWindow.length < c.max) continue;
    // Free again when enough of the oldest ones leave the window.
    const retryAt = new Date(inWindow[inWindow.length - c.max] + c.window);
    if (!refusal || retryAt > refusal.retryAt) refusal = { limit: c.limit, retryAt };
  }
  return refusal ? { ok: false, ...refusal } : { ok: true };
}

/** How far back `checkBudget` looks: the caller loads no older orders. */
export const BUDGET_LOOKBACK_MS = WEEK;
