/**
 * Allow-lists for every value that can reach a config file, a path, a query or an identity
 * (docs/design.md, wire contracts and FQDN scheme). Checked at ingest and again wherever such a value
 * is written out (nginx maps, VPN client files).
 */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `^[a-z][a-z0-9-]{0,21}$`, no `--`, not ending in `-`: keeps `uc-{uuid}--{service}` within 63. */
export const SERVICE_NAME_RE = /^[a-z][a-z0-9-]{0,21}$/;
export const SERVICE_NAME_MAX = 22;

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID_RE.test(v);
}

/** Why a service name is refused, or null when it is allowed. */
export function serviceNameProblem(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > SERVICE_NAME_MAX) return `must be at most ${SERVICE_NAME_MAX} characters`;
  if (!SERVICE_NAME_RE.test(v)) return 'must match ^[a-z][a-z0-9-]{0,21}$';
  if (v.includes('--')) return 'must not contain "--"';
  if (v.endsWith('-')) return 'must not end with "-"';
  return null;
}

export function isServiceName(v: unknown): v is string {
  return serviceNameProblem(v) === null;
}

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

const DOMAIN_RE = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function isDomain(v: unknown): v is string {
  return typeof v === 'string' && DOMAIN_RE.test(v);
}

/** `uc-{container}--{service}.org-{org}.{domain}`, or the bare container name without a service. */
export function serviceFqdn(p: { containerId: string; orgId: string; domain: string; service?: string }): string {
  if (!isUuid(p.containerId) || !isUuid(p.orgId) || !isDomain(p.domain)) throw new Error('fqdn: invalid component');
  if (p.service !== undefined && !isServiceName(p.service)) throw new Error('fqdn: invalid service name');
  const first = p.service ? `uc-${p.containerId}--${p.service}` : `uc-${p.containerId}`;
  return `${first}.org-${p.orgId}.${p.domain}`;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** True when `v` holds a C0 control character or DEL (display names and other free text refuse them). */
export const hasControlCharacters = (v: string): boolean => CONTROL_CHARACTERS.test(v);
