/**
 * Sign-in throttle (pure): after `maxFailures` failed sign-ins in a row, each further failure
 * locks the key (an account, or a source address) for a delay that doubles, from `baseMs` up to
 * `maxMs`. While locked no password is checked, the right one included. Failures are forgotten
 * `forgetMs` after the last one (the caller's storage expires them), or for an account at a
 * successful sign-in.
 */
export interface ThrottlePolicy {
  maxFailures: number;
  baseMs: number;
  maxMs: number;
}

export interface FailureRecord {
  failures: number;
  /** Epoch ms of the last failure. */
  lastAt: number;
}

/** The delay the last failure imposed (0 while under the threshold). */
export function lockDelayMs(failures: number, p: ThrottlePolicy): number {
  if (failures < p.maxFailures) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(failures - p.maxFailures, 40));
}

/** How long the key stays locked at `now` (0: a sign-in may be tried). */
export function lockedForMs(r: FailureRecord | null, now: number, p: ThrottlePolicy): number {
  if (!r) return 0;
  return Math.max(0, r.lastAt + lockDelayMs(r.failures, p) - now);
}
