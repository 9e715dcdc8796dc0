/**
 * "Why does this URL answer what it answers?": the facts gathered along the chain (host ->
 * container -> mapping -> projection -> render -> nginx -> VPN -> access) and the one verdict they
 * lead to. Pure: the service gathers, this decides, so each verdict is a plain unit test.
 */

export type VerdictCode =
  | 'not_a_service_host'
  | 'unknown_container'
  | 'wrong_org'
  | 'container_deleted'
  | 'not_projected'
  | 'no_such_service'
  | 'container_offline'
  | 'no_vpn_address'
  | 'never_rendered'
  | 'render_failed'
  | 'not_rendered_yet'
  | 'access_denied'
  | 'served';

export interface ExplainFacts {
  host: string;
  /** Parsed from the host; null when the host is not a service host of this platform. */
  parsed: { containerId: string; orgId: string; service?: string } | null;
  domain: string;
  container: {
    org_id: string;
    project_id: string;
    status: string;
    status_since: string;
    deleted: boolean;
    last_watchdog_at: string | null;
  } | null;
  /** The services the routing read model has for the container, in mapping order. */
  services: string[];
  route: {
    fqdn: string;
    service: string;
    port: number;
    active: boolean;
    protected: boolean;
    vpn_address: string | null;
    gateway_node: string | null;
    updated_position: string;
    updated_at: string;
  } | null;
  /** The newest map-http-service event for the asked service (or the primary), if any. */
  mapping: { position: string; recorded_at: string; actor: string | null; port: number } | null;
  /** When the routes were last withdrawn (routing state), for the offline verdict. */
  withdrawn_at: string | null;
  projection: { position: string; behind_events: number } | null;
  render: {
    node: string;
    last_outcome: string;
    last_attempt_at: string;
    last_success_at: string | null;
    config_hash: string | null;
    failed_stage: string | null;
    last_error: string | null;
  } | null;
  /** Only when a user was asked about and the route is protected. */
  access: { user_id: string; allowed: boolean } | null;
}

export interface Verdict {
  code: VerdictCode;
  /** One sentence a person can act on. */
  verdict: string;
}

const big = (a: string, b: string) => BigInt(a) > BigInt(b);

export function explainVerdict(f: ExplainFacts): Verdict {
  if (!f.parsed) {
    return {
      code: 'not_a_service_host',
      verdict: `${f.host} is not a service host of this platform: expected uc-{container}[--{service}].org-{org}.${f.domain}`,
    };
  }
  const c = f.container;
  if (!c) return { code: 'unknown_container', verdict: `no container ${f.parsed.containerId} is known (nginx answers 404)` };
  if (c.org_id !== f.parsed.orgId) {
    return {
      code: 'wrong_org',
      verdict: `the host names org ${f.parsed.orgId}, but the container belongs to org ${c.org_id} (nginx answers 404)`,
    };
  }
  if (c.deleted)
    return { code: 'container_deleted', verdict: `container deleted at ${c.status_since}; its routes are gone (nginx answers 404)` };
  const wanted = f.parsed.service ?? null;
  if (!f.route) {
    if (f.mapping && f.projection && big(f.mapping.position, f.projection.position)) {
      return {
        code: 'not_projected',
        verdict: `not routed yet: the mapping at position ${f.mapping.position} is ahead of the routing projection (${f.projection.behind_events} events behind)`,
      };
    }
    const has = f.services.length ? `it has ${f.services.map((s) => `'${s}'`).join(', ')}` : 'it has mapped no service yet';
    return {
      code: 'no_such_service',
      verdict: wanted ? `no service '${wanted}' on this container; ${has}` : `the container's bare name has no primary service; ${has}`,
    };
  }
  const r = f.route;
  if (!r.active) {
    // Routes are withdrawn by an offline lapse. The health read model may not have applied that
    // lapse yet (it still says stale), or the container may be back and beating toward the
    // watchdogs that restore its routes (healthy, degraded): only then does its status tell more.
    const back = c.status === 'healthy' || c.status === 'degraded';
    return {
      code: 'container_offline',
      verdict: back
        ? `container ${c.status} again since ${c.status_since}, its routes still withdrawn until enough watchdogs return: nginx answers the offline page (503)`
        : `container offline since ${f.withdrawn_at ?? c.status_since}: its routes are withdrawn and nginx answers the offline page (503)`,
    };
  }
  if (!r.vpn_address)
    return {
      code: 'no_vpn_address',
      verdict: 'the container has no VPN address yet (it has not fetched its VPN profile): nginx answers 502',
    };
  if (!f.render)
    return { code: 'never_rendered', verdict: `gateway node ${r.gateway_node ?? '(none)'} has never rendered its nginx routes` };
  const renderedAfter = f.render.last_success_at !== null && f.render.last_success_at >= r.updated_at;
  if (!renderedAfter && f.render.last_outcome === 'failed') {
    return {
      code: 'render_failed',
      verdict: `render failed at ${f.render.failed_stage ?? 'an unknown stage'}: ${f.render.last_error ?? 'no error recorded'} (node ${f.render.node}, ${f.render.last_attempt_at}); nginx still serves the last good routes`,
    };
  }
  if (!renderedAfter) {
    return {
      code: 'not_rendered_yet',
      verdict: `not rendered yet: the route changed at ${r.updated_at}, node ${f.render.node} last rendered at ${f.render.last_success_at ?? 'never'}`,
    };
  }
  if (f.access && !f.access.allowed) {
    return {
      code: 'access_denied',
      verdict: `served, but user ${f.access.user_id} has no access to project ${c.project_id}: nginx answers 403 after sign-in`,
    };
  }
  const stale = c.status === 'stale' ? ` (container stale since ${c.status_since}: the service may not answer)` : '';
  const guard = r.protected ? ', behind sign-in' : '';
  return {
    code: 'served',
    verdict: `served: ${r.fqdn} -> ${r.vpn_address}:${r.port} through node ${r.gateway_node ?? '(none)'}${guard}${stale}`,
  };
}
