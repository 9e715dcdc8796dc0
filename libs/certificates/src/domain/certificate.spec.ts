import {
  CERTIFICATE_FAILED,
  CERTIFICATE_ISSUED,
  CERTIFICATE_RENEWED,
  CertificateEvent,
  decide,
  evolve,
  initialState,
  onFailed,
  onObtained,
} from './certificate';
import { namesOf, parseSubject, registeredDomainOf } from './subjects';

const DAY = 86_400_000;
const policy = { renewBeforeMs: 30 * DAY, retryMinMs: 60_000, retryMaxMs: 6 * 3_600_000 };
const names = ['*.org-11111111-1111-4111-8111-111111111111.collab.test'];
const facts = (notAfter: string) => ({
  subject: 'org-11111111-1111-4111-8111-111111111111',
  names,
  serial: '01',
  fingerprint_sha256: 'ab',
  not_before: '2026-01-01T00:00:00.000Z',
  not_after: notAfter,
  issuer: 'CN=test',
});
const fold = (events: CertificateEvent[]) => events.reduce(evolve, initialState());

describe('certificate decider', () => {
  it('issues when there is none, then waits until 30 days before expiry, then renews', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(decide({ names, now }, initialState(), policy)).toMatchObject({ action: 'order', kind: 'issue' });
    const s = fold([onObtained(initialState(), facts('2026-08-30T00:00:00.000Z'))]);
    expect(s.current?.serial).toBe('01');
    expect(decide({ names, now }, s, policy)).toEqual({
      action: 'skip',
      why: 'valid until 2026-08-30T00:00:00.000Z',
      nextCheckAt: '2026-07-31T00:00:00.000Z',
    });
    expect(decide({ names, now: new Date('2026-07-31T00:00:00Z') }, s, policy)).toMatchObject({ action: 'order', kind: 'renew' });
    expect(decide({ names, now, force: true }, s, policy)).toMatchObject({ action: 'order', kind: 'renew' });
    expect(decide({ names: ['other.collab.test'], now }, s, policy)).toMatchObject({
      action: 'order',
      kind: 'renew',
      why: 'the names changed',
    });
    expect(onObtained(s, facts('2026-10-01T00:00:00.000Z')).type).toBe(CERTIFICATE_RENEWED);
    expect(onObtained(initialState(), facts('2026-10-01T00:00:00.000Z')).type).toBe(CERTIFICATE_ISSUED);
  });

  it('backs off exponentially after failures, capped, keeps the last good certificate, and resets on success', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const good = onObtained(initialState(), facts('2026-06-10T00:00:00.000Z'));
    let s = fold([good]);
    const retries: string[] = [];
    for (let i = 0; i < 12; i++) {
      const e = onFailed(s, { subject: 'x', names, stage: 'dns', reason: 'refused\r\nline', now }, policy);
      expect(e.type).toBe(CERTIFICATE_FAILED);
      s = evolve(s, e);
      retries.push((e.data as { retry_at: string }).retry_at);
    }
    expect(s.current?.serial).toBe('01');
    expect(s.failures).toBe(12);
    expect(s.lastFailure?.reason).toBe('refused line');
    expect(retries.slice(0, 3)).toEqual(['2026-06-01T00:01:00.000Z', '2026-06-01T00:02:00.000Z', '2026-06-01T00:04:00.000Z']);
    expect(retries[11]).toBe('2026-06-01T06:00:00.000Z');
    // Nothing is ordered during the back-off, forced or not.
    expect(decide({ names, now, force: true }, s, policy)).toMatchObject({ action: 'skip', why: 'backing off after a failure' });
    expect(decide({ names, now: new Date('2026-06-01T06:00:00Z') }, s, policy)).toMatchObject({ action: 'order' });
    s = evolve(s, onObtained(s, facts('2026-09-01T00:00:00.000Z')));
    expect(s).toMatchObject({ failures: 0, retryAt: null });
  });

  it('a budget refusal retries no earlier than the window frees', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const e = onFailed(
      initialState(),
      { subject: 'x', names, stage: 'budget', reason: 'r', now, notBefore: new Date('2026-06-02T00:00:00Z') },
      policy,
    );
    expect((e.data as { retry_at: string }).retry_at).toBe('2026-06-02T00:00:00.000Z');
  });
});

describe('subjects', () => {
  it('one wildcard per org, the gateway FQDNs sorted and checked', () => {
    expect(namesOf({ kind: 'org', orgId: '11111111-1111-4111-8111-111111111111' }, 'collab.test', [])).toEqual(names);
    expect(namesOf({ kind: 'gateway' }, 'collab.test', ['b.collab.test', 'a.collab.test', 'b.collab.test', 'Bad;Name'])).toEqual([
      'a.collab.test',
      'b.collab.test',
    ]);
    expect(() => namesOf({ kind: 'org', orgId: 'x' }, 'collab.test', [])).toThrow();
    expect(parseSubject('org-11111111-1111-4111-8111-111111111111')).toEqual({
      kind: 'org',
      orgId: '11111111-1111-4111-8111-111111111111',
    });
    expect(parseSubject('gateway')).toEqual({ kind: 'gateway' });
    expect(parseSubject('org-../../etc')).toBeNull();
    expect(registeredDomainOf('*.org-1.apps.example.co.uk', 'example.co.uk')).toBe('example.co.uk');
    expect(registeredDomainOf('*.org-1.apps.example.com')).toBe('example.com');
  });
});
