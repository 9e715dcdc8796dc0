import { ExplainService, explainQuery } from '@app/explain';
import { parseInput } from '@app/common';
import { EXIT, print, UsageError, type OpsContext } from '../cli';

/** `ops explain <url|fqdn> [--user UUID]`: the verdict for a service URL, then the chain behind it. */
export async function explainCommand(ctx: OpsContext): Promise<number> {
  const { values, positionals } = ctx.parse({ user: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('explain takes one URL or host name');
  const target = positionals[0]!;
  const query = parseInput(explainQuery, {
    ...(/^[a-z]+:\/\//i.test(target) ? { url: target } : { fqdn: target }),
    ...(values.user ? { user: values.user } : {}),
  });
  const result = await new ExplainService(ctx.pool, ctx.config).explain({ orgId: null, projectIds: null }, query.host, query.user);
  print(!!values.json, result, () => {
    const c = result.chain;
    const lines = [
      `${result.code}: ${result.verdict}`,
      `  host        ${result.host}`,
      c.container
        ? `  container   ${c.parsed?.containerId} org ${c.container.org_id} project ${c.container.project_id}, ${c.container.status} since ${c.container.status_since}${c.container.deleted ? ', deleted' : ''}`
        : '  container   (unknown)',
      `  services    ${c.services.length ? c.services.join(', ') : '(none)'}`,
      c.mapping
        ? `  mapping     port ${c.mapping.port} at position ${c.mapping.position}, ${c.mapping.recorded_at}, by ${c.mapping.actor ?? '(unknown)'}`
        : '  mapping     (none)',
      c.projection ? `  projection  routing at ${c.projection.position}, ${c.projection.behind_events} events behind` : '',
      c.route
        ? `  route       ${c.route.fqdn} -> ${c.route.vpn_address ?? '(no VPN address)'}:${c.route.port} node ${c.route.gateway_node ?? '-'}, ${c.route.active ? 'active' : 'withdrawn'}${c.route.protected ? ', protected' : ''}, changed ${c.route.updated_at}`
        : '  route       (none)',
      c.render
        ? `  render      node ${c.render.node}: ${c.render.last_outcome} at ${c.render.last_attempt_at}, last good ${c.render.last_success_at ?? 'never'}, hash ${c.render.config_hash ?? '-'}${c.render.last_error ? `, error: ${c.render.last_error}` : ''}`
        : '  render      (none)',
      c.access ? `  access      user ${c.access.user_id}: ${c.access.allowed ? 'allowed' : 'refused'}` : '',
    ];
    return `${lines.filter(Boolean).join('\n')}\n`;
  });
  return result.code === 'served' ? EXIT.ok : EXIT.failed;
}
