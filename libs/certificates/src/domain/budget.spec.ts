import { checkBudget, LETS_ENCRYPT_LIMITS, OrderRecord } from './budget';

const H = 3_600_000;
const now = new Date('2026-06-08T00:00:00Z');
const at = (msAgo: number) => new Date(now.getTime() - msAgo);
const order = (o: Partial<OrderRecord> & { at: Date }): OrderRecord => ({
  names: ['*.org-a.collab.test'],
  registeredDomain: 'collab.test',
  kind: 'issue',
  outcome: 'valid',
  failedNames: [],
  ...o,
});
const issue = (name: string) => ({ names: [name], registeredDomain: 'collab.test', kind: 'issue' as const });

describe("ACME budget (Let's Encrypt limits)", () => {
  it('allows an order with no history', () => {
    expect(checkBudget(issue('*.org-a.collab.test'), [], LETS_ENCRYPT_LIMITS, now)).toEqual({ ok: true });
  });

  it('50 new certificates per registered domain per week; renewals are exempt', () => {
    const history = Array.from({ length: 50 }, (_, i) => order({ at: at((i + 1) * H), names: [`*.org-${i}.collab.test`] }));
    const refused = checkBudget(issue('*.org-new.collab.test'), history, LETS_ENCRYPT_LIMITS, now);
    // Free when the oldest of the 50 leaves the 7-day window.
    expect(refused).toEqual({
      ok: false,
      limit: 'certs_per_registered_domain_per_week',
      retryAt: new Date(at(50 * H).getTime() + 7 * 24 * H),
    });
    expect(checkBudget({ ...issue('*.org-0.collab.test'), kind: 'renew' }, history, LETS_ENCRYPT_LIMITS, now)).toEqual({ ok: true });
    expect(checkBudget({ ...issue('*.org-x.other.test'), registeredDomain: 'other.test' }, history, LETS_ENCRYPT_LIMITS, now)).toEqual({
      ok: true,
    });
    const older = history.map((o) => ({ ...o, at: new Date(o.at.getTime() - 7 * 24 * H) }));
    expect(checkBudget(issue('*.org-new.collab.test'), older, LETS_ENCRYPT_LIMITS, now)).toEqual({ ok: true });
  });

  it('300 new orders per account per 3 hours, whatever their outcome', () => {
    const history = Array.from({ length: 300 }, (_, i) =>
      order({ at: at(i * 30_000 + 1), names: [`x${i}.collab.test`], kind: 'renew', outcome: i % 2 ? 'invalid' : 'pending' }),
    );
    const r = checkBudget({ ...issue('y.collab.test'), kind: 'renew' }, history, LETS_ENCRYPT_LIMITS, now);
    expect(r).toMatchObject({ ok: false, limit: 'orders_per_3h' });
  });

  it('5 failed validations per hostname per hour; other names are unaffected', () => {
    const history = Array.from({ length: 5 }, (_, i) =>
      order({ at: at((i + 1) * 600_000), outcome: 'invalid', failedNames: ['*.org-a.collab.test'], kind: 'renew' }),
    );
    expect(checkBudget({ ...issue('*.org-a.collab.test'), kind: 'renew' }, history, LETS_ENCRYPT_LIMITS, now)).toEqual({
      ok: false,
      limit: 'failed_validations_per_host_per_hour',
      retryAt: new Date(at(5 * 600_000).getTime() + H),
    });
    expect(checkBudget(issue('*.org-b.collab.test'), history, LETS_ENCRYPT_LIMITS, now)).toEqual({ ok: true });
  });

  it('5 duplicate certificates (the same names) per week', () => {
    const history = Array.from({ length: 5 }, (_, i) => order({ at: at((i + 1) * 24 * H), kind: 'renew' }));
    expect(checkBudget({ ...issue('*.org-a.collab.test'), kind: 'renew' }, history, LETS_ENCRYPT_LIMITS, now)).toMatchObject({
      ok: false,
      limit: 'duplicate_certs_per_week',
    });
  });
});
