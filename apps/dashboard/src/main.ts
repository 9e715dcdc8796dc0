import './style.css';
import { setUnauthorizedHandler } from './api';
import type { ViewContext } from './context';
import { h, mount } from './dom';
import { roleOf } from './format';
import { openLive, type LiveState } from './live';
import { endProviderSession, finishProviderSignIn } from './oidc';
import { session } from './session';
import type { HealthChange } from './types';
import { renderContainer } from './views/container';
import { renderExplain } from './views/explain';
import { renderFleet } from './views/fleet';
import { renderRoutes } from './views/routes';
import { renderSignIn } from './views/signin';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const app = document.getElementById('app')!;

const changeListeners = new Set<(c: HealthChange) => void>();
const reconnectListeners = new Set<() => void>();
let live: { close: () => void } | null = null;
let leaveView: (() => void) | null = null;

function signOut(message?: string, endProvider = false): void {
  live?.close();
  live = null;
  leaveView?.();
  leaveView = null;
  const viaProvider = session.via() === 'provider';
  session.signOut();
  // Signing out by hand ends the provider's session too (else the next sign-in would be silent).
  if (endProvider && viaProvider) return endProviderSession();
  showSignIn(message);
}
setUnauthorizedHandler(() => signOut('Your token was refused (expired or revoked). Sign in again.'));

function showSignIn(message?: string): void {
  document.title = 'Sign in · Collab gateway';
  mount(app, h('header', { class: 'top' }, h('h1', {}, 'Collab gateway')), h('main', { id: 'main', tabindex: -1 }));
  renderSignIn(
    document.getElementById('main')!,
    (token) => {
      session.signIn(token);
      showApp();
    },
    message,
  );
}

function liveText(s: LiveState): string {
  switch (s.kind) {
    case 'live':
      return 'Live';
    case 'connecting':
      return 'Connecting…';
    case 'retrying':
      return `Reconnecting in ${Math.ceil(s.inMs / 1000)} s (${s.reason})`;
    case 'stopped':
      return `Not live: ${s.reason}`;
  }
}

function showApp(): void {
  const token = session.token()!;
  const role = roleOf(token);
  const liveStatus = h('p', { id: 'live-status', class: 'live', role: 'status', 'data-state': 'connecting' }, 'Connecting…');
  const nav = h(
    'nav',
    { 'aria-label': 'Views' },
    h(
      'ul',
      {},
      h('li', {}, h('a', { href: '#/fleet', 'data-view': 'fleet' }, 'Fleet')),
      h('li', {}, h('a', { href: '#/routes', 'data-view': 'routes' }, 'Routes')),
      h('li', {}, h('a', { href: '#/explain', 'data-view': 'explain' }, 'Explain')),
    ),
  );
  const main = h('main', { id: 'main', tabindex: -1 });
  mount(
    app,
    h(
      'a',
      { class: 'skip', href: '#main', onclick: ((e: Event) => (e.preventDefault(), main.focus())) as EventListener },
      'Skip to content',
    ),
    h(
      'header',
      { class: 'top' },
      h('h1', {}, 'Collab gateway'),
      nav,
      h(
        'div',
        { class: 'top__end' },
        liveStatus,
        h('span', { class: 'who' }, `Signed in as ${role ?? 'unknown role'}`),
        h('button', { type: 'button', id: 'sign-out', onclick: () => signOut(undefined, true) }, 'Sign out'),
      ),
    ),
    main,
  );
  live = openLive({
    url: '/containers/events',
    token: () => session.token(),
    onMessage: (m) => {
      if (m.event !== 'health') return;
      try {
        const change = JSON.parse(m.data) as HealthChange;
        changeListeners.forEach((fn) => fn(change));
      } catch {
        /* not ours */
      }
    },
    onState: (s) => {
      liveStatus.textContent = liveText(s);
      liveStatus.dataset.state = s.kind;
    },
    onOpen: () => reconnectListeners.forEach((fn) => fn()),
    onRefused: (status) => status === 401 && signOut('Your token was refused (expired or revoked). Sign in again.'),
  });
  route();
}

function route(): void {
  if (!session.token()) return;
  const main = document.getElementById('main');
  if (!main) return;
  const hash = location.hash || '#/fleet';
  if (!hash.startsWith('#/')) return;
  leaveView?.();
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const on = <T>(set: Set<T>, fn: T) => (set.add(fn), cleanups.push(() => set.delete(fn)), () => set.delete(fn));
  const ctx: ViewContext = {
    main,
    role: roleOf(session.token()!),
    signal: controller.signal,
    onChange: (fn) => on(changeListeners, fn),
    onReconnect: (fn) => on(reconnectListeners, fn),
    onLeave: (fn) => void cleanups.push(fn),
  };
  leaveView = () => {
    controller.abort();
    cleanups.forEach((fn) => fn());
  };
  const [, view, id] = hash.split('/');
  document
    .querySelectorAll('nav a')
    .forEach((a) =>
      (a as HTMLElement).dataset.view === (view === 'containers' ? 'fleet' : view)
        ? a.setAttribute('aria-current', 'page')
        : a.removeAttribute('aria-current'),
    );
  if (view === 'containers' && id && UUID.test(id)) {
    document.title = 'Container · Collab gateway';
    void renderContainer(ctx, id);
  } else if (view === 'explain') {
    // #/explain/<url-encoded URL or host>: the view explains it at once (links from the routes view).
    document.title = 'Explain · Collab gateway';
    void renderExplain(ctx, id ? decodeURIComponent(id) : '');
  } else if (view === 'routes') {
    document.title = 'Routes · Collab gateway';
    void renderRoutes(ctx);
  } else {
    document.title = 'Fleet · Collab gateway';
    void renderFleet(ctx);
  }
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
finishProviderSignIn().then(
  (signedIn) => {
    if (signedIn) session.signIn(signedIn.token, 'provider');
    if (session.token()) showApp();
    else showSignIn();
  },
  (err: Error) => showSignIn(err.message),
);
