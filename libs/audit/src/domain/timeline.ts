/**
 * The per-container timeline, pure: which events are state changes and how each reads in one
 * line. Raw watchdogs are not state changes; the caller passes only the ones that changed the
 * container's health (the first one, healthy <-> degraded, the first after a lapse), marked with
 * `transition`.
 */
export interface TimelineInput {
  type: string;
  data: Record<string, unknown>;
  actor: string | null;
  /** For watchdogs: why this one is on the timeline. */
  transition?: 'first' | 'recovered' | 'healthy' | 'degraded';
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');
const by = (actor: string | null) => (actor ? ` by ${actor}` : '');

type Readiness = { healthy?: unknown; name?: unknown };

function unhealthyServices(data: Record<string, unknown>): string[] {
  const services: unknown[] = Array.isArray(data.services) ? data.services : [];
  return services
    .filter((s): s is Readiness => typeof s === 'object' && s !== null && (s as Readiness).healthy === false)
    .map((s) => str(s.name));
}

/** A human-readable one-liner for a state-changing event; null when the event is not one. */
export function summarize(e: TimelineInput): string | null {
  const d = e.data ?? {};
  switch (e.type) {
    case 'user-container:registered':
      return `registered (image ${str(d.image_id)}${d.display_name ? `, "${str(d.display_name)}"` : ''}) on gateway node ${d.gateway_node ?? 'none'}${by(e.actor)}`;
    case 'user-container:token-issued':
      return `token version ${str(d.token_version)} issued (key ${str(d.kid)}, expires ${str(d.expires_at)})${by(e.actor)}`;
    case 'user-container:vpn-address-assigned':
      return `VPN address ${str(d.address)} assigned on gateway node ${d.gateway_node ?? 'none'}`;
    case 'user-container:vpn-address-released':
      return `VPN address ${str(d.address)} released${d.reason === 'outside-pool' ? ' (outside the current VPN pool)' : ''}`;
    case 'user-container:certificate-issued':
      return `VPN certificate ${str(d.serial)} issued (valid until ${str(d.not_after)})`;
    case 'user-container:certificate-revoked':
      return `VPN certificate ${str(d.serial)} revoked (${str(d.reason)})`;
    case 'user-container:http-service-mapped':
      return `service ${str(d.name)} mapped to port ${str(d.port)}${by(e.actor)}`;
    case 'user-container:http-service-unmapped':
      return `service ${str(d.name)} unmapped${by(e.actor)}`;
    case 'user-container:health-lapsed':
      return `health lapsed to ${str(d.status)} (last watchdog ${d.last_seen_at ? str(d.last_seen_at) : 'never'})`;
    case 'user-container:deleted':
      return `deleted${d.reason ? ` (${str(d.reason)})` : ''}${by(e.actor)}`;
    case 'user-container:watchdog': {
      if (!e.transition) return null;
      const bad = unhealthyServices(d);
      const state = bad.length ? `degraded (unhealthy: ${bad.join(', ')})` : 'healthy';
      if (e.transition === 'first') return `first watchdog: ${state}`;
      if (e.transition === 'recovered') return `watchdogs resumed: ${state}`;
      return `health changed to ${state}`;
    }
    default:
      return null;
  }
}

/** A watchdog's health as the health projection sees it (any unhealthy service: degraded). */
export const watchdogHealth = (data: Record<string, unknown>): 'healthy' | 'degraded' =>
  unhealthyServices(data).length ? 'degraded' : 'healthy';

/** `type:id` of metadata.actor, or null. */
export function actorOf(metadata: unknown): string | null {
  const a = (metadata as { actor?: { type?: unknown; id?: unknown } } | null)?.actor;
  return a && typeof a.type === 'string' && typeof a.id === 'string' ? `${a.type}:${a.id}` : null;
}
