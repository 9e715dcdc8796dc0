import { h } from '../dom';
import { ago, load, percent } from '../format';
import type { Container } from '../types';
import { shortId, stateBadge, statusBadge } from '../widgets';

export const FLEET_COLUMNS = ['Name', 'Project', 'Status', 'Last seen', 'CPU load', 'Memory', 'Disk', 'Services'];

/** One row of the fleet table, keyed by container id (a live change replaces just this row). */
export function fleetRow(c: Container, now: number): HTMLTableRowElement {
  const name = c.display_name || shortId(c.container_id);
  const s = c.stats;
  return h(
    'tr',
    { 'data-container': c.container_id, 'data-status': c.status },
    h('th', { scope: 'row' }, h('a', { href: `#/containers/${c.container_id}` }, name)),
    h('td', { title: c.project_id }, shortId(c.project_id)),
    h('td', {}, statusBadge(c.status)),
    h('td', {}, h('time', { datetime: c.last_watchdog_at ?? '' }, ago(c.last_watchdog_at, now))),
    h('td', { class: 'num' }, load(s?.cpu?.load1, s?.cpu?.count)),
    h('td', { class: 'num' }, percent(s?.memory?.usedRatio)),
    h('td', { class: 'num' }, percent(s?.disk?.usedRatio)),
    h(
      'td',
      {},
      c.services.length
        ? h(
            'ul',
            { class: 'services' },
            ...c.services.map((x) => h('li', { title: x.message ?? '' }, `${x.name} `, stateBadge(x.healthy, 'ready', 'not ready'))),
          )
        : '–',
    ),
  );
}
