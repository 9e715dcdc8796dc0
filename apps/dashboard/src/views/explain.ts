import { ApiError, get } from '../api';
import type { ViewContext } from '../context';
import { h, mount } from '../dom';
import type { Explanation } from '../types';
import { notice } from '../widgets';

/** The links of the chain, in the order a request travels them, as label and text. */
function chainRows(e: Explanation): [string, string][] {
  const c = e.chain;
  const rows: [string, string][] = [['Host', e.host]];
  if (c.container)
    rows.push([
      'Container',
      `${c.parsed?.containerId ?? ''}: ${c.container.status} since ${c.container.status_since}${c.container.deleted ? ' (deleted)' : ''}`,
    ]);
  rows.push(['Services', c.services.length ? c.services.join(', ') : 'none mapped']);
  if (c.mapping)
    rows.push([
      'Mapping',
      `port ${c.mapping.port} at position ${c.mapping.position}, ${c.mapping.recorded_at}, by ${c.mapping.actor ?? '?'}`,
    ]);
  if (c.projection) rows.push(['Routing projection', `at position ${c.projection.position}, ${c.projection.behind_events} events behind`]);
  if (c.route)
    rows.push([
      'Route',
      `${c.route.vpn_address ?? 'no VPN address'}:${c.route.port} on node ${c.route.gateway_node ?? '?'}, ${c.route.active ? 'active' : 'withdrawn'}${c.route.protected ? ', protected' : ''}, changed ${c.route.updated_at}`,
    ]);
  if (c.render)
    rows.push([
      'Last render',
      `${c.render.last_outcome} at ${c.render.last_attempt_at}; last good ${c.render.last_success_at ?? 'never'}${c.render.last_error ? `; ${c.render.last_error}` : ''}`,
    ]);
  if (c.access) rows.push(['Access', `user ${c.access.user_id}: ${c.access.allowed ? 'allowed' : 'refused'}`]);
  return rows;
}

/** "Why does this URL answer what it answers?": a form, the verdict, and the chain behind it. */
export async function renderExplain(ctx: ViewContext, initial: string): Promise<void> {
  const url = h('input', {
    id: 'x-url',
    type: 'text',
    value: initial,
    placeholder: 'https://uc-…--service.org-….domain/',
    autocomplete: 'off',
    required: true,
  });
  const user = h('input', { id: 'x-user', type: 'text', placeholder: 'optional: a user id', autocomplete: 'off' });
  const result = h('section', { 'aria-live': 'polite', 'aria-labelledby': 'x-result-title' });

  async function explain(): Promise<void> {
    const target = url.value.trim();
    if (!target) return;
    const param = /^[a-z]+:\/\//i.test(target) ? { url: target } : { fqdn: target };
    try {
      const e = await get<Explanation>('/routes/explain', { ...param, user: user.value.trim() || undefined }, ctx.signal);
      mount(
        result,
        h('h3', { id: 'x-result-title' }, 'Verdict'),
        h('p', { class: `verdict verdict--${e.code === 'served' ? 'ok' : 'bad'}`, 'data-code': e.code }, e.verdict),
        h('dl', { class: 'chain' }, ...chainRows(e).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      );
    } catch (err) {
      if (ctx.signal.aborted) return;
      mount(result, notice('error', err instanceof ApiError ? err.detail : String(err)));
    }
  }

  mount(
    ctx.main,
    h('h2', {}, 'Explain a URL'),
    h(
      'form',
      {
        class: 'filters',
        'aria-label': 'Explain a URL',
        onsubmit: ((e: Event) => (e.preventDefault(), void explain())) as EventListener,
      },
      h('div', { class: 'field field--grow' }, h('label', { for: 'x-url' }, 'URL or host'), url),
      h('div', { class: 'field' }, h('label', { for: 'x-user' }, 'User'), user),
      h('div', { class: 'field' }, h('button', { type: 'submit', id: 'x-go' }, 'Explain')),
    ),
    result,
  );
  if (initial) await explain();
}
