import { ApiError, get } from '../api';
import { lineChart } from '../chart';
import type { ViewContext } from '../context';
import { h, mount } from '../dom';
import { actorText, ago, load, percent } from '../format';
import type { ContainerDetail, Sample, TimelineItem } from '../types';
import { notice, stateBadge, statusBadge, tableRegion } from '../widgets';

const RANGES: [string, number][] = [
  ['Last 5 minutes', 5 * 60_000],
  ['Last 15 minutes', 15 * 60_000],
  ['Last hour', 3_600_000],
  ['Last 6 hours', 6 * 3_600_000],
  ['Last 24 hours', 24 * 3_600_000],
  ['Last 48 hours', 48 * 3_600_000],
];

const fixed =
  (digits: number, unit = '') =>
  (v: number) =>
    `${v.toFixed(digits)}${unit}`;

/** One container: health and readiness, stats charts over a chosen range, routes, audit timeline. */
export async function renderContainer(ctx: ViewContext, id: string): Promise<void> {
  const header = h('div', { class: 'detail-head' });
  const facts = h('div');
  const services = h('section', { 'aria-labelledby': 'services-title' });
  const routes = h('section', { 'aria-labelledby': 'routes-title' });
  const range = h('select', { id: 'range' }, ...RANGES.map(([label, ms]) => h('option', { value: ms, selected: ms === 3_600_000 }, label)));
  const charts = h('div', { class: 'charts', 'aria-live': 'polite', 'aria-busy': 'true' });
  const audit = h('section', { 'aria-labelledby': 'audit-title' });
  mount(
    ctx.main,
    h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')),
    header,
    facts,
    h(
      'section',
      { 'aria-labelledby': 'stats-title' },
      h('h3', { id: 'stats-title' }, 'Stats'),
      h('div', { class: 'field' }, h('label', { for: 'range' }, 'Time range'), range),
      charts,
    ),
    services,
    routes,
    audit,
  );

  let detail: ContainerDetail;
  try {
    detail = await get<ContainerDetail>(`/containers/${encodeURIComponent(id)}`, {}, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) return;
    mount(
      ctx.main,
      h('h2', {}, 'Container'),
      notice(
        'error',
        err instanceof ApiError && err.status === 404
          ? 'No such container (or not one this token may see).'
          : `Could not load the container: ${(err as Error).message}`,
      ),
      h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')),
    );
    return;
  }

  const drawHead = () => {
    mount(
      header,
      h('h2', {}, detail.display_name || detail.container_id, ' ', statusBadge(detail.status)),
      h('p', { class: 'help' }, `Status since ${ago(detail.status_since, Date.now())}.`),
    );
    const s = detail.stats;
    const rows: [string, string][] = [
      ['Container', detail.container_id],
      ['Org', detail.org_id],
      ['Project', detail.project_id],
      ['Gateway node', detail.gateway_node ?? 'default'],
      ['Last seen', ago(detail.last_watchdog_at, Date.now())],
      ['CPU load', load(s?.cpu?.load1, s?.cpu?.count)],
      ['Memory', percent(s?.memory?.usedRatio)],
      ['Disk', percent(s?.disk?.usedRatio)],
      ['Ping', s?.network?.pingMs != null ? `${s.network.pingMs} ms` : '–'],
    ];
    mount(facts, h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  };
  drawHead();

  mount(
    services,
    h('h3', { id: 'services-title' }, 'Services'),
    detail.services.length
      ? tableRegion(
          'Services',
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ...['Service', 'Port', 'Readiness', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              ...detail.services.map((x) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, x.name),
                  h('td', { class: 'num' }, x.port ?? '–'),
                  h('td', {}, stateBadge(x.healthy, 'Ready', 'Not ready', 'Not reported')),
                  h('td', {}, x.message ?? ''),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'No services reported.'),
  );
  mount(
    routes,
    h('h3', { id: 'routes-title' }, 'Routes'),
    detail.routes.length
      ? h(
          'ul',
          { class: 'routes', id: 'container-routes' },
          ...detail.routes.map((r) =>
            h(
              'li',
              {},
              h('a', { href: `//${r.fqdn}/`, rel: 'noopener noreferrer', target: '_blank' }, r.fqdn),
              ' ',
              stateBadge(r.active, 'Active', 'Withdrawn'),
              r.is_primary ? ' (primary)' : '',
            ),
          ),
        )
      : h('p', {}, 'No routes: the container published no service.'),
  );

  const drawCharts = async () => {
    const to = Date.now();
    const from = to - Number(range.value);
    charts.setAttribute('aria-busy', 'true');
    try {
      const res = await get<{ samples: Sample[] }>(
        `/containers/${encodeURIComponent(id)}/stats`,
        { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        ctx.signal,
      );
      const t = (s: Sample) => Date.parse(s.bucket);
      const series = (pick: (s: Sample) => number | null) => res.samples.map((s): [number, number | null] => [t(s), pick(s)]);
      mount(
        charts,
        lineChart({ label: 'CPU load (1 min)', points: series((s) => s.load1), format: fixed(2) }, { from, to }),
        lineChart({ label: 'Memory used', points: series((s) => s.mem_used_ratio), format: (v) => percent(v), max: 1 }, { from, to }),
        lineChart({ label: 'Disk used', points: series((s) => s.disk_used_ratio), format: (v) => percent(v), max: 1 }, { from, to }),
        lineChart({ label: 'Ping', points: series((s) => s.ping_ms), format: fixed(0, ' ms') }, { from, to }),
      );
    } catch (err) {
      if (!ctx.signal.aborted) mount(charts, notice('error', `Could not load the stats: ${(err as Error).message}`));
    } finally {
      charts.setAttribute('aria-busy', 'false');
    }
  };
  range.addEventListener('change', () => void drawCharts());

  const drawAudit = async () => {
    const title = h('h3', { id: 'audit-title' }, 'Audit timeline');
    if (ctx.role !== 'operator') return mount(audit, title, h('p', {}, 'The audit timeline is available to operators only.'));
    mount(audit, title, h('p', {}, 'Loading…'));
    try {
      const t = await get<{ items: TimelineItem[] }>(`/audit/containers/${encodeURIComponent(id)}/timeline`, {}, ctx.signal);
      mount(
        audit,
        title,
        t.items.length
          ? h(
              'ol',
              { class: 'timeline', id: 'audit-timeline' },
              ...t.items.map((i) =>
                h(
                  'li',
                  {},
                  h('time', { datetime: i.recorded_at }, new Date(i.recorded_at).toISOString().replace('T', ' ').slice(0, 19)),
                  ' ',
                  h('code', {}, i.type),
                  ' ',
                  i.summary,
                  actorText(i.actor) ? h('span', { class: 'help' }, ` by ${actorText(i.actor)}`) : null,
                ),
              ),
            )
          : h('p', {}, 'No entries.'),
      );
    } catch (err) {
      if (ctx.signal.aborted) return;
      const status = err instanceof ApiError ? err.status : 0;
      mount(
        audit,
        title,
        notice(
          'info',
          status === 404 || status === 403
            ? 'The audit timeline is not available on this gateway (or not to this token).'
            : `The audit timeline could not be loaded: ${(err as Error).message}`,
        ),
      );
    }
  };

  ctx.onChange((c) => {
    if (c.container_id !== id) return;
    detail = { ...detail, status: c.to, status_since: c.at };
    drawHead();
  });
  ctx.onReconnect(async () => {
    detail = await get<ContainerDetail>(`/containers/${encodeURIComponent(id)}`, {}, ctx.signal).catch(() => detail);
    drawHead();
  });
  await Promise.all([drawCharts(), drawAudit()]);
}
