import { renderDryRun, type RenderDiff } from '@app/nginx';
import { EXIT, print, UsageError, type OpsContext } from '../cli';

/**
 * `ops render --diff [--limit N] [--exit-code]`: what the next render of this node (the NGINX_*
 * settings of this machine) would change against what its nginx serves now. Renders themselves
 * run in the worker; this only reads.
 */
export async function renderCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({ diff: { type: 'boolean' }, limit: { type: 'string', default: '100' }, 'exit-code': { type: 'boolean' } });
  if (!values.diff) throw new UsageError('renders run in the worker; --diff shows what the next one would change');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError('--limit must be a whole number');
  const diff = await renderDryRun(ctx.pool, ctx.config.nginx, ctx.config.platformDomain);
  print(!!values.json, diff, () => describe(diff, limit));
  const changes = diff.added.length + diff.removed.length + diff.changed.length;
  return values['exit-code'] && changes > 0 ? EXIT.failed : EXIT.ok;
}

function describe(d: RenderDiff, limit: number): string {
  const s = d.served;
  const lines = [
    `node ${d.node} (${d.stage}): nginx serves ${s.routes} routes from ${s.source === 'live' ? `its shared dict, generation ${s.generation}` : 'its map file'}, hash ${s.hash ?? '-'}${s.confirmed ? ' (confirmed)' : ' (NOT confirmed)'}`,
    ...(s.note ? [`  ${s.note}`] : []),
    `next render: ${d.next.routes} routes${d.next.skipped.length ? `, ${d.next.skipped.length} row${d.next.skipped.length === 1 ? '' : 's'} refused` : ''}`,
  ];
  const all = [
    ...d.added.map((e) => `+ ${e.host} ${e.value}`),
    ...d.removed.map((e) => `- ${e.host} ${e.value}`),
    ...d.changed.map((e) => `~ ${e.host} ${e.from} -> ${e.to}`),
  ];
  lines.push(...all.slice(0, limit));
  if (all.length > limit) lines.push(`  ... ${all.length - limit} more (--limit N, or --json for all)`);
  for (const r of d.next.skipped.slice(0, limit)) lines.push(`! ${r.fqdn}: ${r.reason}`);
  lines.push(
    all.length
      ? `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed`
      : 'no change: nginx serves what the next render would',
  );
  return `${lines.join('\n')}\n`;
}
