import { isDomain, isUuid } from '@app/common';

/**
 * What a certificate is for. One wildcard per org covers every service FQDN of the org
 * (`uc-<id>--<service>.org-<org>.<domain>` and `uc-<id>.org-<org>.<domain>` sit one label under
 * `org-<org>.<domain>`); one more certificate carries the gateway FQDNs.
 */
export type Subject = { kind: 'org'; orgId: string } | { kind: 'gateway' };

export const GATEWAY_SUBJECT = 'gateway';
const ORG_SUBJECT = /^org-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** `org-<uuid>` or `gateway`: the stream suffix, file name stem and metrics label. */
export function subjectId(s: Subject): string {
  return s.kind === 'gateway' ? GATEWAY_SUBJECT : `org-${s.orgId}`;
}

export function parseSubject(id: string): Subject | null {
  if (id === GATEWAY_SUBJECT) return { kind: 'gateway' };
  const m = ORG_SUBJECT.exec(id);
  return m && isUuid(m[1]) ? { kind: 'org', orgId: m[1] } : null;
}

export const certificateStream = (subject: string) => `certificate-${subject}`;

/** The DNS names a subject's certificate carries, checked and sorted (the order is the identity). */
export function namesOf(s: Subject, domain: string, gatewayFqdns: readonly string[]): string[] {
  if (!isDomain(domain)) throw new Error(`not a domain: ${domain}`);
  if (s.kind === 'org') {
    if (!isUuid(s.orgId)) throw new Error(`not an org id: ${s.orgId}`);
    return [`*.org-${s.orgId.toLowerCase()}.${domain}`];
  }
  const names = [...new Set(gatewayFqdns.map((n) => n.toLowerCase()))].filter((n) => isDomain(n));
  if (!names.length) throw new Error('no gateway FQDN to certify');
  return names.sort();
}

/**
 * The registered domain the rate limits count against (Let's Encrypt counts per eTLD+1). Without
 * the public suffix list at hand, the operator names it (ACME_REGISTERED_DOMAIN); the default is
 * the last two labels of the name.
 */
export function registeredDomainOf(name: string, configured?: string): string {
  const bare = name.replace(/^\*\./, '');
  if (configured && (bare === configured || bare.endsWith(`.${configured}`))) return configured;
  return bare.split('.').slice(-2).join('.');
}

export const sameNames = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);
