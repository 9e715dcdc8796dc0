import { ApiError, get } from '../api';
import { h, mount } from '../dom';
import { startProviderSignIn } from '../oidc';

/**
 * Sign in with a gateway account (the gateway's OpenID provider: its own form, then back here as
 * the user's role), or, for automation, paste a viewer or operator token. It is checked against the API before it is kept; the field is
 * a password input so it is not shown, autofilled or remembered by the browser.
 */
export function renderSignIn(root: HTMLElement, onSignedIn: (token: string) => void, message?: string): void {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { id: 'signin-error', class: 'notice notice--error', role: 'alert', hidden: !message }, message ?? '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const account = h(
    'button',
    {
      type: 'button',
      id: 'signin-account',
      onclick: () => void startProviderSignIn().catch(() => ((error.textContent = 'The sign-in could not start.'), (error.hidden = false))),
    },
    'Continue with your gateway account',
  );
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-title', novalidate: true },
    h('h2', { id: 'signin-title' }, 'Sign in'),
    account,
    h('p', { class: 'help' }, 'Or paste a token:'),
    h('label', { for: 'token' }, 'Access token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'A viewer or operator token (npm run ops -- mint-token). It is kept in this tab only and cleared when you sign out.',
    ),
    error,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = 'Enter a token.';
      error.hidden = false;
      return input.focus();
    }
    button.disabled = true;
    try {
      await get('/containers/summary', {}, undefined, token);
      input.value = '';
      onSignedIn(token);
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      error.textContent =
        status === 401
          ? 'This token was refused (expired, revoked or not for this gateway).'
          : status === 403
            ? 'This token may not read dashboards (use a viewer or operator token).'
            : 'The gateway could not be reached. Try again.';
      error.hidden = false;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  mount(root, form);
  input.focus();
}
