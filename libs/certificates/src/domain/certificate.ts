import { sameNames } from './subjects';

/**
 * A subject's certificate as a stream of facts: issued (the first), renewed (each later one),
 * failed (an attempt that left the last good certificate serving). No key material, ever:
 * the events say which certificate (serial, fingerprint, validity), never what signs with it.
 */
export const CERTIFICATE_ISSUED = 'certificate:issued';
export const CERTIFICATE_RENEWED = 'certificate:renewed';
export const CERTIFICATE_FAILED = 'certificate:failed';

export interface CertificateFacts {
  subject: string;
  names: string[];
  serial: string;
  /** sha256 of the DER certificate, hex. */
  fingerprint_sha256: string;
  not_before: string;
  not_after: string;
  issuer: string;
}

export interface FailureFacts {
  subject: string;
  names: string[];
  /** Where it failed: budget (a rate limit would be crossed), dns, order, validation, finalize, install. */
  stage: string;
  reason: string;
  /** Failures in a row, this one included. */
  attempt: number;
  retry_at: string;
}

export type CertificateEvent =
  | { type: typeof CERTIFICATE_ISSUED; data: CertificateFacts }
  | { type: typeof CERTIFICATE_RENEWED; data: CertificateFacts }
  | { type: typeof CERTIFICATE_FAILED; data: FailureFacts };

export interface CertificateState {
  current: CertificateFacts | null;
  failures: number;
  retryAt: string | null;
  lastFailure: FailureFacts | null;
}

export const initialState = (): CertificateState => ({ current: null, failures: 0, retryAt: null, lastFailure: null });

export function evolve(state: CertificateState, event: CertificateEvent): CertificateState {
  switch (event.type) {
    case CERTIFICATE_ISSUED:
    case CERTIFICATE_RENEWED:
      return { current: event.data, failures: 0, retryAt: null, lastFailure: null };
    case CERTIFICATE_FAILED:
      return { ...state, failures: event.data.attempt, retryAt: event.data.retry_at, lastFailure: event.data };
    default:
      return state;
  }
}

export interface CertificatePolicy {
  renewBeforeMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export type Decision =
  { action: 'order'; kind: 'issue' | 'renew'; why: string } | { action: 'skip'; why: string; nextCheckAt: string | null };

/**
 * Whether to order a certificate now: none yet -> issue; other names, or within `renewBeforeMs` of
 * expiry, or forced -> renew; otherwise nothing until the renewal point. While a failure's back-off
 * runs nothing is ordered, forced or not (the budget of failed validations is the CA's, not ours).
 */
export function decide(cmd: { names: string[]; now: Date; force?: boolean }, state: CertificateState, policy: CertificatePolicy): Decision {
  const now = cmd.now.getTime();
  if (state.retryAt && Date.parse(state.retryAt) > now)
    return { action: 'skip', why: 'backing off after a failure', nextCheckAt: state.retryAt };
  const cur = state.current;
  if (!cur) return { action: 'order', kind: 'issue', why: 'no certificate yet' };
  if (!sameNames(cur.names, cmd.names)) return { action: 'order', kind: 'renew', why: 'the names changed' };
  if (cmd.force) return { action: 'order', kind: 'renew', why: 'renewal asked for' };
  const renewAt = Date.parse(cur.not_after) - policy.renewBeforeMs;
  if (now >= renewAt) return { action: 'order', kind: 'renew', why: `expires ${cur.not_after}` };
  return { action: 'skip', why: `valid until ${cur.not_after}`, nextCheckAt: new Date(renewAt).toISOString() };
}

/** The event for a certificate obtained by an order `decide` asked for. */
export function onObtained(state: CertificateState, facts: CertificateFacts): CertificateEvent {
  return { type: state.current ? CERTIFICATE_RENEWED : CERTIFICATE_ISSUED, data: facts };
}

/** The event for a failed attempt: exponential back-off from retryMin, capped at retryMax. */
export function onFailed(
  state: CertificateState,
  f: { subject: string; names: string[]; stage: string; reason: string; now: Date; notBefore?: Date },
  policy: CertificatePolicy,
): CertificateEvent {
  const attempt = state.failures + 1;
  const delay = Math.min(policy.retryMaxMs, policy.retryMinMs * 2 ** Math.min(attempt - 1, 30));
  let retry = f.now.getTime() + delay;
  // A budget refusal knows when the window frees up: never retry before it.
  if (f.notBefore && f.notBefore.getTime() > retry) retry = f.notBefore.getTime();
  return {
    type: CERTIFICATE_FAILED,
    data: {
      subject: f.subject,
      names: f.names,
      stage: f.stage,
      reason: f.reason.replace(/[\r\n]+/g, ' ').slice(0, 500),
      attempt,
      retry_at: new Date(retry).toISOString(),
    },
  };
}
