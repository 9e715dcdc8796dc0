import { get } from '../api';
import type { ViewContext } from '../context';
import { h, mount } from '../dom';
import { ago, matches, STATUS_LABEL, STATUSES, type Status } from '../format';
import type { Container, ContainerDetail, Summary } from '../types';
import { notice, shortId, statusBadge, tableRegion } from '../widgets';
import { FLEET_COLUMNS, fleetRow } from './fleet-rows';

/** Rows per server page: the page never holds more than this many containers. */
export const FLEET_PAGE_SIZE = 100;
const COUNTS_THROTTLE_MS = 1_000;

interface Page {
  items: Container[];
  next_cursor: string | null;
}

/**
 * Fleet: counts by status (GET /containers/summary) and one server page of containers at a time
 * (GET /containers, cursor-paged, status and project filtered by the server). Live SSE changes
 * update the rows of the current page in place and refresh the counts (throttled); the page is
 * reloaded only on navigation, filter changes and SSE reconnects. Search narrows the current page.
 */
export async function renderFleet(ctx: ViewContext): Promise<void> {
  const rows = new Map<string, Container>();
  let summary: Summary | null = null;
  // cursors[i] opens page i (undefined: the first page); next is the server's cursor after this page.
  let cursors: (string | undefined)[] = [undefined];
  let next: string | null = null;
  let loads = 0;
  const filters = { status: '', project: '', q: '' };
  const projects = new Set<string>();

  const counts = h('ul', { class: 'counts', 'aria-label': 'Containers by status' });
  const status = h(
    'select',
    { id: 'f-status' },
    h('option', { value: '' }, 'All statuses'),
    ...STATUSES.map((s) => h('option', { value: s }, STATUS_LABEL[s])),
  );
  const project = h('select', { id: 'f-project' }, h('option', { value: '' }, 'All projects'));
  const search = h('input', { id: 'f-search', type: 'search', placeholder: 'Name, id, node or service (this page)', autocomplete: 'off' });
  const shown = h('p', { class: 'help', id: 'fleet-shown', role: 'status', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', id: 'fleet-prev' }, 'Previous page');
  const nextButton = h('button', { type: 'button', id: 'fleet-next' }, 'Next page');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'fleet', id: 'fleet-table' },
    h('caption', { class: 'visually-hidden' }, 'Containers'),
    h('thead', {}, h('tr', {}, ...FLEET_COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );
  const message = h('div');

  const onServerFilter = () => {
    filters.status = status.value;
    filters.project = project.value;
    cursors = [undefined];
    void load();
  };
  status.addEventListener('change', onServerFilter);
  project.addEventListener('change', onServerFilter);
  search.addEventListener('input', () => {
    filters.q = search.value;
    drawRows();
  });
  prev.addEventListener('click', () => {
    if (cursors.length < 2) return;
    cursors = cursors.slice(0, -1);
    void load();
  });
  nextButton.addEventListener('click', () => {
    if (!next) return;
    cursors = [...cursors, next];
    void load();
  });

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
    h('nav', { class: 'pager', 'aria-label': 'Fleet pages' }, prev, nextButton),
  );

  function drawCounts(): void {
    if (!summary) return;
    const s = summary;
    mount(
      counts,
      h('li', { class: 'count count--total' }, h('span', { class: 'count__n', 'data-count': 'total' }, s.total), h('span', {}, 'Total')),
      ...STATUSES.map((x) =>
        h('li', { class: `count count--${x}` }, h('span', { class: 'count__n', 'data-count': x }, s.counts[x] ?? 0), statusBadge(x)),
      ),
    );
  }

  function drawProjects(): void {
    for (const c of rows.values()) projects.add(c.project_id);
    const current = project.value;
    mount(
      project,
      h('option', { value: '' }, 'All projects'),
      ...[...projects].sort().map((id) => h('option', { value: id, selected: id === current }, shortId(id))),
    );
  }

  /** How many containers the server filters match (the summary counts, by project when one is chosen). */
  const matching = (): number | null =>
    summary ? (filters.status ? (summary.counts[filters.status as Status] ?? 0) : summary.total) : null;

  const visible = (c: Container) => matches(filters.q, [c.display_name, c.container_id, c.gateway_node, ...c.services.map((x) => x.name)]);

  function drawRows(): void {
    const now = Date.now();
    const list = [...rows.values()].filter(visible);
    mount(tbody, ...list.map((c) => fleetRow(c, now)));
    if (!list.length)
      mount(tbody, h('tr', {}, h('td', { colspan: 8 }, rows.size ? 'No container on this page matches the search.' : 'No containers.')));
    drawShown(list.length);
  }

  function drawShown(filtered = [...rows.values()].filter(visible).length): void {
    const first = (cursors.length - 1) * FLEET_PAGE_SIZE;
    const total = matching();
    const range = rows.size ? `Rows ${first + 1}–${first + rows.size}` : 'No rows';
    const of = total === null ? '' : ` of ${total.toLocaleString('en-GB')} containers`;
    const q = filters.q ? ` ${filtered} on this page match the search.` : '';
    shown.textContent = `${range}${of}.${q}`;
    prev.disabled = cursors.length < 2;
    nextButton.disabled = !next;
  }

  /** Loads the current page and the counts; an answer overtaken by a newer load is dropped. */
  async function load(): Promise<void> {
    const mine = ++loads;
    try {
      const serverFilters = { status: filters.status, project: filters.project };
      const [page, sum] = await Promise.all([
        get<Page>('/containers', { ...serverFilters, limit: String(FLEET_PAGE_SIZE), cursor: cursors[cursors.length - 1] }, ctx.signal),
        get<Summary>('/containers/summary', { project: filters.project }, ctx.signal),
      ]);
      if (mine !== loads) return;
      rows.clear();
      for (const c of page.items) rows.set(c.container_id, c);
      next = page.next_cursor;
      summary = sum;
      mount(message);
      drawCounts();
      drawProjects();
      drawRows();
    } catch (err) {
      if (!ctx.signal.aborted && mine === loads) mount(message, notice('error', `Could not load the fleet: ${(err as Error).message}`));
    }
  }

  let countsTimer: ReturnType<typeof setTimeout> | null = null;
  const refreshCounts = () => {
    if (countsTimer) return;
    countsTimer = setTimeout(async () => {
      countsTimer = null;
      summary = await get<Summary>('/containers/summary', { project: filters.project }, ctx.signal).catch(() => summary);
      drawCounts();
      drawShown();
    }, COUNTS_THROTTLE_MS);
  };

  /** Replaces one row of the page in place (the rest of the table is untouched). */
  function redraw(c: Container): void {
    rows.set(c.container_id, c);
    const old = tbody.querySelector(`tr[data-container="${CSS.escape(c.container_id)}"]`);
    if (old) old.replaceWith(fleetRow(c, Date.now()));
  }

  ctx.onChange(async (change) => {
    refreshCounts();
    // Only rows of the current page are touched; the rest of the fleet is the server's.
    const known = rows.get(change.container_id);
    if (!known) return;
    // The new status at once; then the row as the read model has it now (stats, last seen and
    // readiness moved too), unless a newer change overtook that answer.
    redraw({ ...known, status: change.to, status_since: change.at });
    const fresh = await get<ContainerDetail>(`/containers/${change.container_id}`, {}, ctx.signal).catch(() => null);
    const now = rows.get(change.container_id);
    if (!fresh || !now) return;
    if (Date.parse(now.status_since) > Date.parse(fresh.status_since)) return;
    redraw({ ...fresh, services: fresh.readiness });
  });
  ctx.onReconnect(() => void load());
  // Relative times move on without a request (watchdogs alone send no SSE event; a page load,
  // paging, a filter or a reconnect fetches the rows' newest stats).
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const t of tbody.querySelectorAll<HTMLTimeElement>('time[datetime]')) t.textContent = ago(t.dateTime || null, now);
  }, 30_000);
  ctx.onLeave(() => {
    clearInterval(ticker);
    if (countsTimer) clearTimeout(countsTimer);
  });
  await load();
}
