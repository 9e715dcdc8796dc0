import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { clientSetting, defaultRedirectUris } from '@app/sso';

/**
 * The pgAdmin image turns SETTINGS.oauth_clients (as the gateway writes it) into pgAdmin's
 * OAUTH2_CONFIG: a Python literal its official entrypoint writes into the config. Checked with
 * the real script, jq and Python's own literal parser.
 */
const SCRIPT = join(resolve(__dirname, '../..'), 'docker-images/user-images/pgadmin4/oauth2-config.sh');
const run = (json: string) => spawnSync('bash', [SCRIPT, json], { encoding: 'utf8' });

describe('pgAdmin OAuth2 settings from SETTINGS.oauth_clients', () => {
  it('maps the gateway client field by field into a Python literal pgAdmin reads', () => {
    const c = '11111111-1111-4111-8111-111111111111';
    const o = '22222222-2222-4222-8222-222222222222';
    const setting = clientSetting(
      `uc-${c}`,
      'Zm9vYmFyYmF6cXV4cXV1eA_-abcdefghijklmnopqrstu',
      'https://gw.example/oidc',
      defaultRedirectUris(c, o, { domain: 'apps.example', scheme: 'https' }),
    );
    const out = run(JSON.stringify([setting]));
    expect(out.status).toBe(0);
    const py = spawnSync('python3', ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'], {
      input: out.stdout,
      encoding: 'utf8',
    });
    expect(py.status).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual([
      {
        OAUTH2_NAME: 'collab',
        OAUTH2_DISPLAY_NAME: 'Platform sign-in',
        OAUTH2_CLIENT_ID: `uc-${c}`,
        OAUTH2_CLIENT_SECRET: setting.client_secret,
        OAUTH2_TOKEN_URL: 'https://gw.example/oidc/token',
        OAUTH2_AUTHORIZATION_URL: 'https://gw.example/oidc/auth',
        OAUTH2_API_BASE_URL: 'https://gw.example/oidc/',
        OAUTH2_USERINFO_ENDPOINT: 'https://gw.example/oidc/me',
        OAUTH2_SERVER_METADATA_URL: 'https://gw.example/oidc/.well-known/openid-configuration',
        OAUTH2_SCOPE: 'openid email profile',
        OAUTH2_USERNAME_CLAIM: 'email',
      },
    ]);
  });

  it('prints nothing without a client (pgAdmin keeps its internal accounts only), and refuses non-string fields', () => {
    expect(run('[]')).toMatchObject({ status: 0, stdout: '' });
    const bad = run(JSON.stringify([{ client_id: 1, client_secret: 's' }]));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('every field must be a string');
  });
});
