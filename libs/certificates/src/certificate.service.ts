import { Logger } from '@nestjs/common';
import type { EventStore } from '@app/event-store';
import { BudgetLimits, BUDGET_LOOKBACK_MS, checkBudget } from './domain/budget';
import { CertificateEvent, CertificatePolicy, decide, evolve, initialState, onFailed, onObtained } from './domain/certificate';
import { certificateStream, namesOf, parseSubject, registeredDomainOf } from './domain/subjects';
import { CertificateIssuer, factsOf, IssueError } from './infra/issuer';
import type { KeySealer } from '@app/secrets';
import { certificateKeyContext, type CertificateStore } from './infra/store';
import { certificateMetrics as m } from './metrics';

export interface EnsureOptions {
  domain: string;
  policy: CertificatePolicy;
  limits: BudgetLimits;
  registeredDomain?: string;
  gatewayFqdns: () => Promise<string[]>;
}

export type EnsureResult =
  | { outcome: 'skipped'; why: string; nextCheckAt: string | null }
  | { outcome: 'issued' | 'renewed'; notAfter: string }
  | { outcome: 'failed'; stage: string; reason: string; retryAt: string };

/**
 * The command handler of a subject's certificate: load its stream, fold, decide; if an order is
 * due, check the account's budget, obtain, then store the certificate (key sealed) and append
 * issued/renewed, or append failed with its back-off. Callers serialise calls per subject.
 */
export class CertificateService {
  private readonly logger = new Logger('certificates');

  constructor(
    private readonly events: EventStore,
    private readonly store: CertificateStore,
    private readonly issuer: CertificateIssuer,
    private readonly sealer: KeySealer,
    private readonly o: EnsureOptions,
  ) {}

  async ensure(subjectId: string, opts: { force?: boolean; now?: Date } = {}): Promise<EnsureResult> {
    const subject = parseSubject(subjectId);
    if (!subject) throw new Error(`unknown certificate subject ${subjectId}`);
    const now = opts.now ?? new Date();
    const names = namesOf(subject, this.o.domain, subject.kind === 'gateway' ? await this.o.gatewayFqdns() : []);
    const stream = certificateStream(subjectId);
    const history = await this.events.readStream(stream);
    const state = history.reduce((s, e) => evolve(s, e as unknown as CertificateEvent), initialState());
    const version = history.length ? history[history.length - 1].streamVersion : 'no_stream';
    const decision = decide({ names, now, force: opts.force }, state, this.o.policy);
    if (decision.action === 'skip') return { outcome: 'skipped', why: decision.why, nextCheckAt: decision.nextCheckAt };

    const fail = async (stage: string, reason: string, notBefore?: Date): Promise<EnsureResult> => {
      const event = onFailed(state, { subject: subjectId, names, stage, reason, now, notBefore }, this.o.policy);
      await this.append(stream, event, version);
      const data = event.data as { retry_at: string; attempt: number };
      m.attempts.inc({ outcome: 'failed', stage });
      m.failures.set({ subject: subjectId }, data.attempt);
      await this.store.setStatus({
        subject: subjectId,
        names,
        outcome: 'failed',
        at: now,
        stage,
        error: reason,
        failures: data.attempt,
        retryAt: data.retry_at,
      });
      this.logger.warn(`${subjectId}: ${decision.kind} failed at ${stage} (attempt ${data.attempt}, retry at ${data.retry_at}): ${reason}`);
      return { outcome: 'failed', stage, reason, retryAt: data.retry_at };
    };

    const registeredDomain = registeredDomainOf(names[0], this.o.registeredDomain);
    if (this.issuer.budgeted) {
      const orders = await this.store.recentOrders(this.issuer.account, new Date(now.getTime() - BUDGET_LOOKBACK_MS));
      const budget = checkBudget({ names, registeredDomain, kind: decision.kind }, orders, this.o.limits, now);
      if (!budget.ok) {
        m.budgetRefusals.inc({ limit: budget.limit });
        return fail('budget', `${budget.limit} would be exceeded; free again at ${budget.retryAt.toISOString()}`, budget.retryAt);
      }
    }
    const order = await this.store.openOrder({
      account: this.issuer.account,
      subject: subjectId,
      names,
      kind: decision.kind,
      registeredDomain,
      at: now,
    });
    let obtained;
    try {
      obtained = await this.issuer.obtain(names);
    } catch (err) {
      const e = err instanceof IssueError ? err : new IssueError('order', (err as Error).message);
      await this.store.closeOrder(order, 'invalid', e.failedNames);
      return fail(e.stage, e.message);
    }
    await this.store.closeOrder(order, 'valid');
    const facts = factsOf(subjectId, names, obtained.chainPem);
    await this.store.saveCertificate(
      facts,
      obtained.chainPem,
      await this.sealer.seal(obtained.keyPem, certificateKeyContext(subjectId)),
      this.issuer.account,
    );
    const event = onObtained(state, facts);
    await this.append(stream, event, version);
    const outcome = event.type === 'certificate:issued' ? 'issued' : 'renewed';
    m.attempts.inc({ outcome, stage: '' });
    m.failures.set({ subject: subjectId }, 0);
    m.notAfter.set({ subject: subjectId }, Date.parse(facts.not_after) / 1000);
    await this.store.setStatus({ subject: subjectId, names, outcome, at: now, failures: 0, notAfter: facts.not_after });
    this.logger.log(`${subjectId}: ${outcome} (${names.join(', ')}), valid until ${facts.not_after}`);
    return { outcome, notAfter: facts.not_after };
  }

  private async append(stream: string, event: CertificateEvent, version: number | 'no_stream'): Promise<void> {
    await this.events.append(
      stream,
      [{ type: event.type, data: event.data, metadata: { actor: { type: 'system', id: 'certificates' } } }],
      version,
    );
  }
}
