import { X509Certificate } from 'node:crypto';
import type { CertificateFacts } from '../domain/certificate';

/** A certificate and its private key, as an issuer hands them over (the key is sealed before it is stored). */
export interface Obtained {
  /** Leaf first, then the intermediates (what nginx's ssl_certificate wants). */
  chainPem: string;
  keyPem: string;
}

/** Where an attempt failed, and which names failed validation (they count against the CA's per-host limit). */
export class IssueError extends Error {
  constructor(
    readonly stage: 'account' | 'dns' | 'order' | 'validation' | 'finalize',
    message: string,
    readonly failedNames: string[] = [],
  ) {
    super(message);
    this.name = 'IssueError';
  }
}

/** Obtains a certificate for `names` (ACME in production, the development CA under npm start). */
export interface CertificateIssuer {
  /** Recorded in events and budgets: the ACME directory URL, or `dev-ca`. */
  readonly account: string;
  /** Whether the CA's rate limits apply (the development CA has none). */
  readonly budgeted: boolean;
  obtain(names: string[]): Promise<Obtained>;
}

export const CERTIFICATE_ISSUER = Symbol('CERTIFICATE_ISSUER');

/** What the events and the certificates table say about a chain (public facts only). */
export function factsOf(subject: string, names: string[], chainPem: string): CertificateFacts {
  const leaf = new X509Certificate(chainPem);
  return {
    subject,
    names,
    serial: leaf.serialNumber.toLowerCase(),
    fingerprint_sha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
    not_before: new Date(leaf.validFrom).toISOString(),
    not_after: new Date(leaf.validTo).toISOString(),
    issuer: leaf.issuer.replace(/\n/g, ', '),
  };
}
