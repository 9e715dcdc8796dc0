import { get, getAll } from '../api';
import type { ViewContext } from '../context';
import { h, mount } from '../dom';
import { ago, load, matches, percent, STATUS_LABEL, STATUSES } from '../format';
import type { Container, ContainerDetail, Summary } from '../types';
import { notice, shortId, stateBadge, statusBadge, tableRegion } from '../widgets';

const MAX_CONTAINERS = 5_000;

/** Fleet: counts by status, the containers table with filters and search, kept live by SSE. */
export async function renderFleet(ctx: ViewContext): Promise<void> {
  const containers = new Map<string, Container>();
  let summary: Summary | null = null;
  let truncated = false;
  const filters = { status: '', project: '', q: '' };

  const counts = h('ul', { class: 'counts', 'aria-label': 'Containers by status' });
  const status = h(
    'select',
    { id: 'f-status' },
    h('option', { value: '' }, 'All statuses'),
    ...STATUSES.map((s) => h('option', { value: s }, STATUS_LABEL[s])),
  );
  const project = h('select', { id: 'f-project' }, h('option', { value: '' }, 'All projects'));
  const search = h('input', { id: 'f-search', type: 'search', placeholder: 'Name, id, node or service', autocomplete: 'off' });
  const shown = h('p', { class: 'help', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'fleet', id: 'fleet-table' },
    h('caption', { class: 'visually-hidden' }, 'Containers'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Name', 'Project', 'Status', 'Last seen', 'CPU load', 'Memory', 'Disk', 'Services'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    tbody,
  );
  const message = h('div');

  const onFilter = () => {
    filters.status = status.value;
    filters.project = project.value;
    filters.q = search.value;
    drawRows();
  };
  status.addEventListener('change', onFilter);
  project.addEventListener('change', onFilter);
  search.addEventListener('input', onFilter);

  mount(
    ctx.main,
    h('h2', {}, 'Fleet'),
    counts,
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter containers',
        onsubmit: ((e: Event) => e.preventDefault()) as EventListener,
      },
      h('div', { class: 'field' }, h('label', { for: 'f-status' }, 'Status'), status),
      h('div', { class: 'field' }, h('label', { for: 'f-project' }, 'Project'), project),
      h('div', { class: 'field field--grow' }, h('label', { for: 'f-search' }, 'Search'), search),
    ),
    shown,
    message,
    tableRegion('Containers', table),
  );

  function drawCounts(): void {
    if (!summary) return;
    mount(
      counts,
      h(
        'li',
        { class: 'count count--total' },
        h('span', { class: 'count__n', 'data-count': 'total' }, summary.total),
        h('span', {}, 'Total'),
      ),
      ...STATUSES.map((s) =>
        h('li', { class: `count count--${s}` }, h('span', { class: 'count__n', 'data-count': s }, summary!.counts[s] ?? 0), statusBadge(s)),
      ),
    );
  }

  function drawProjects(): void {
    const ids = [...new Set([...containers.values()].map((c) => c.project_id))].sort();
    const current = project.value;
    mount(
      project,
      h('option', { value: '' }, 'All projects'),
      ...ids.map((id) => h('option', { value: id, selected: id === current }, shortId(id))),
    );
  }

  function row(c: Container, now: number): HTMLTableRowElement {
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

  function drawRows(): void {
    const now = Date.now();
    const list = [...containers.values()]
      .filter((c) => !c.deleted)
      .filter((c) => !filters.status || c.status === filters.status)
      .filter((c) => !filters.project || c.project_id === filters.project)
      .filter((c) => matches(filters.q, [c.display_name, c.container_id, c.gateway_node, ...c.services.map((x) => x.name)]))
      .sort((a, b) => (a.display_name ?? a.container_id).localeCompare(b.display_name ?? b.container_id));
    mount(tbody, ...list.map((c) => row(c, now)));
    if (!list.length)
      mount(tbody, h('tr', {}, h('td', { colspan: 8 }, containers.size ? 'No container matches the filters.' : 'No containers yet.')));
    shown.textContent = `${list.length} of ${containers.size} containers shown${truncated ? ` (only the first ${MAX_CONTAINERS} loaded)` : ''}.`;
  }

  async function reload(): Promise<void> {
    try {
      const [all, sum] = await Promise.all([
        getAll<Container>('/containers', { limit: '500' }, MAX_CONTAINERS, ctx.signal),
        get<Summary>('/containers/summary', {}, ctx.signal),
      ]);
      containers.clear();
      for (const c of all.items) containers.set(c.container_id, c);
      truncated = all.truncated;
      summary = sum;
      mount(message);
      drawCounts();
      drawProjects();
      drawRows();
    } catch (err) {
      if (!ctx.signal.aborted) mount(message, notice('error', `Could not load the fleet: ${(err as Error).message}`));
    }
  }

  let summaryTimer: ReturnType<typeof setTimeout> | null = null;
  const refreshSummary = () => {
    if (summaryTimer) return;
    summaryTimer = setTimeout(async () => {
      summaryTimer = null;
      summary = await get<Summary>('/containers/summary', {}, ctx.signal).catch(() => summary);
      drawCounts();
    }, 300);
  };

  ctx.onChange(async (change) => {
    // The new status at once; then the row as the read model has it now (stats, last seen and
    // readiness moved too), unless a newer change overtook that answer.
    const known = containers.get(change.container_id);
    if (known) {
      containers.set(change.container_id, { ...known, status: change.to, status_since: change.at });
      drawRows();
    }
    refreshSummary();
    const fresh = await get<ContainerDetail>(`/containers/${change.container_id}`, {}, ctx.signal).catch(() => null);
    if (!fresh) return;
    const now = containers.get(change.container_id);
    if (now && Date.parse(now.status_since) > Date.parse(fresh.status_since)) return;
    containers.set(fresh.container_id, { ...fresh, services: fresh.readiness });
    if (!now) drawProjects();
    drawRows();
  });
  ctx.onReconnect(() => void reload());
  // Relative times and the stats of the newest watchdog (watchdogs alone send no SSE event).
  const ticker = setInterval(() => void reload(), 30_000);
  ctx.onLeave(() => {
    clearInterval(ticker);
    if (summaryTimer) clearTimeout(summaryTimer);
  });
  await reload();
}
