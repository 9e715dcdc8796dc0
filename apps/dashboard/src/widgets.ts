import { h } from './dom';
import { isStatus, STATUS_LABEL } from './format';

/** A status as a coloured badge that also says it in words (colour is never the only signal). */
export function statusBadge(status: string): HTMLElement {
  const known = isStatus(status);
  return h(
    'span',
    { class: `badge badge--${known ? status : 'unknown'}`, 'data-status': status },
    h('span', { class: 'badge__dot', 'aria-hidden': 'true' }),
    known ? STATUS_LABEL[status] : status,
  );
}

export function stateBadge(ok: boolean | null, yes: string, no: string, unknown = 'Unknown'): HTMLElement {
  const kind = ok === null ? 'unknown' : ok ? 'ok' : 'bad';
  return h(
    'span',
    { class: `badge badge--${kind}` },
    h('span', { class: 'badge__dot', 'aria-hidden': 'true' }),
    ok === null ? unknown : ok ? yes : no,
  );
}

/** A wide table in a labelled region that scrolls sideways on a narrow screen (and by keyboard). */
export function tableRegion(label: string, table: HTMLTableElement): HTMLElement {
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': label, tabindex: 0 }, table);
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function notice(kind: 'info' | 'error', text: string): HTMLElement {
  return h('p', { class: `notice notice--${kind}`, role: kind === 'error' ? 'alert' : null }, text);
}
