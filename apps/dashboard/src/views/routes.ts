import { get, getAll } from '../api';
import type { ViewContext } from '../context';
import { h, mount } from '../dom';
import { ago, matches } from '../format';
import type { RenderState, Route } from '../types';
import { notice, shortId, stateBadge, tableRegion } from '../widgets';

const MAX_ROUTES = 10_000;

/** Every route (active and withdrawn) and the last nginx render of each node. */
export async function renderRoutes(ctx: ViewContext): Promise<void> {
  const state = h(
    'select',
    { id: 'r-state' },
    h('option', { value: '' }, 'Active and withdrawn'),
    h('option', { value: 'active' }, 'Active'),
    h('option', { value: 'withdrawn' }, 'Withdrawn'),
  );
  const search = h('input', { id: 'r-search', type: 'search', placeholder: 'FQDN, service or container', autocomplete: 'off' });
  const shown = h('p', { class: 'help', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const renders = h('section', { 'aria-labelledby': 'renders-title' });
  const message = h('div');
  mount(
    ctx.main,
    h('h2', {}, 'Routes'),
    renders,
    h(
      'section',
      { 'aria-labelledby': 'routes-list-title' },
      h('h3', { id: 'routes-list-title' }, 'Routes'),
      h(
        'form',
        { class: 'filters', role: 'search', 'aria-label': 'Filter routes', onsubmit: ((e: Event) => e.preventDefault()) as EventListener },
        h('div', { class: 'field' }, h('label', { for: 'r-state' }, 'State'), state),
        h('div', { class: 'field field--grow' }, h('label', { for: 'r-search' }, 'Search'), search),
      ),
      shown,
      message,
      tableRegion(
        'Routes',
        h(
          'table',
          { id: 'routes-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['FQDN', 'State', 'Service', 'Port', 'Container', 'Node', 'Changed', 'Why'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          tbody,
        ),
      ),
    ),
  );

  let routes: Route[] = [];
  let truncated = false;
  const drawRoutes = () => {
    const now = Date.now();
    const list = routes
      .filter((r) => !state.value || (state.value === 'active') === r.active)
      .filter((r) => matches(search.value, [r.fqdn, r.service, r.container_id, r.gateway_node]));
    mount(
      tbody,
      ...list.map((r) =>
        h(
          'tr',
          { 'data-fqdn': r.fqdn, 'data-active': String(r.active) },
          h('th', { scope: 'row' }, h('a', { href: `//${r.fqdn}/`, rel: 'noopener noreferrer', target: '_blank' }, r.fqdn)),
          h('td', {}, stateBadge(r.active, 'Active', 'Withdrawn')),
          h('td', {}, r.service, r.is_primary ? ' (primary)' : ''),
          h('td', { class: 'num' }, r.port),
          h('td', {}, h('a', { href: `#/containers/${r.container_id}` }, shortId(r.container_id))),
          h('td', {}, r.gateway_node ?? 'default'),
          h('td', {}, h('time', { datetime: r.updated_at }, ago(r.updated_at, now))),
          h('td', {}, h('a', { href: `#/explain/${encodeURIComponent(r.fqdn)}`, 'aria-label': `Explain ${r.fqdn}` }, 'Explain')),
        ),
      ),
    );
    if (!list.length)
      mount(tbody, h('tr', {}, h('td', { colspan: 8 }, routes.length ? 'No route matches the filters.' : 'No routes yet.')));
    const active = routes.filter((r) => r.active).length;
    shown.textContent = `${list.length} shown; ${active} active, ${routes.length - active} withdrawn${truncated ? ` (only the first ${MAX_ROUTES} loaded)` : ''}.`;
  };
  state.addEventListener('change', drawRoutes);
  search.addEventListener('input', drawRoutes);

  const drawRenders = (items: RenderState[]) => {
    const title = h('h3', { id: 'renders-title' }, 'Last nginx render');
    if (!items.length) return mount(renders, title, h('p', {}, 'No render recorded yet (is the worker running?).'));
    const now = Date.now();
    mount(
      renders,
      title,
      tableRegion(
        'Last nginx render per node',
        h(
          'table',
          { id: 'renders-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Node', 'Outcome', 'Last attempt', 'Last success', 'Routes', 'Skipped rows', 'Duration', 'Error'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            ...items.map((r) =>
              h(
                'tr',
                { 'data-node': r.node },
                h('th', { scope: 'row' }, r.node, h('span', { class: 'help' }, ` ${r.stage}`)),
                h('td', {}, stateBadge(r.last_outcome !== 'failed', r.last_outcome === 'swapped' ? 'Swapped' : 'Unchanged', 'Failed')),
                h('td', {}, h('time', { datetime: r.last_attempt_at }, ago(r.last_attempt_at, now))),
                h('td', {}, h('time', { datetime: r.last_success_at ?? '' }, ago(r.last_success_at, now))),
                h('td', { class: 'num' }, r.routes ?? '–'),
                h('td', { class: 'num' }, r.skipped_rows ?? '–'),
                h('td', { class: 'num' }, `${r.duration_ms} ms`),
                h('td', {}, r.last_error ? `${r.failed_stage ?? ''}: ${r.last_error}` : '–'),
              ),
            ),
          ),
        ),
      ),
    );
  };

  const reload = async () => {
    try {
      const [all, r] = await Promise.all([
        getAll<Route>('/routes', { limit: '1000' }, MAX_ROUTES, ctx.signal),
        get<{ items: RenderState[] }>('/nginx/renders', {}, ctx.signal),
      ]);
      routes = all.items;
      truncated = all.truncated;
      mount(message);
      drawRoutes();
      drawRenders(r.items);
    } catch (err) {
      if (!ctx.signal.aborted) mount(message, notice('error', `Could not load the routes: ${(err as Error).message}`));
    }
  };
  // Routes change with health (withdrawn when offline): reload on changes, at most every 2 s.
  let timer: ReturnType<typeof setTimeout> | null = null;
  ctx.onChange(() => {
    timer ??= setTimeout(() => {
      timer = null;
      void reload();
    }, 2_000);
  });
  ctx.onReconnect(() => void reload());
  ctx.onLeave(() => timer && clearTimeout(timer));
  await reload();
}
