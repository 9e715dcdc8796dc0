import { isDomain, isServiceName, isUuid, serviceFqdn } from '@app/common';

export interface ServiceHost {
  host: string;
  containerId: string;
  orgId: string;
  /** Absent for the container's bare name (its primary service). */
  service?: string;
}

const HOST_RE = /^uc-([0-9a-f-]{36})(?:--([a-z][a-z0-9-]{0,21}))?\.org-([0-9a-f-]{36})\.(.+)$/;

/**
 * A service host name of the platform (`uc-{container}[--{service}].org-{org}.{domain}`), or null.
 * Re-derived from the parsed ids, so only the canonical spelling is accepted.
 */
export function parseServiceHost(host: unknown, domain: string): ServiceHost | null {
  if (typeof host !== 'string' || host.length > 253 || !isDomain(domain)) return null;
  const m = HOST_RE.exec(host);
  if (!m || m[4] !== domain || !isUuid(m[1]) || !isUuid(m[3]) || (m[2] !== undefined && !isServiceName(m[2]))) return null;
  const parsed = { host, containerId: m[1], orgId: m[3], ...(m[2] ? { service: m[2] } : {}) };
  return serviceFqdn({ containerId: parsed.containerId, orgId: parsed.orgId, domain, service: parsed.service }) === host ? parsed : null;
}

/** How browsers reach a service host (through Stage 1): `https://host` or with an explicit port. */
export function serviceOrigin(host: string, o: { scheme: 'https' | 'http'; port?: number }): string {
  return `${o.scheme}://${host}${o.port ? `:${o.port}` : ''}`;
}

/**
 * The return path after sign-in: a path on the same host, never a URL elsewhere. Refuses absolute
 * URLs, scheme-relative `//host`, backslashes (browsers read `/\host` as `//host`), control
 * characters and anything over 2 KiB. Returns null when refused.
 */
export function safeReturnPath(rd: unknown): string | null {
  if (typeof rd !== 'string' || rd.length === 0 || rd.length > 2048) return null;
  if (!rd.startsWith('/') || rd.startsWith('//') || rd.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters (C0, space, DEL, C1) is the point
  if (/[\u0000-\u0020\u007f-\u009f]/.test(rd)) return null;
  // Resolved against a dummy origin, it must stay on it (catches encoded and dot tricks browsers normalise).
  try {
    const u = new URL(rd, 'https://same.invalid');
    if (u.origin !== 'https://same.invalid') return null;
  } catch {
    return null;
  }
  return rd;
}

/** `name=value` pairs of a Cookie header (the first of a repeated name wins). */
export function parseCookies(header: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof header !== 'string') return out;
  for (const raw of header.split(';')) {
    const part = raw.trim();
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i);
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

export interface CookieOptions {
  path: string;
  maxAgeS: number;
  secure: boolean;
}

/** A host-only cookie (no Domain attribute: the browser sends it to this exact host only). */
export function hostCookie(name: string, value: string, o: CookieOptions): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !/^[A-Za-z0-9_-]*$/.test(value)) throw new Error('cookie: unsafe name or value');
  return `${name}=${value}; Path=${o.path}; Max-Age=${o.maxAgeS}; HttpOnly; SameSite=Lax${o.secure ? '; Secure' : ''}`;
}
