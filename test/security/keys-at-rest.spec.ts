import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Job } from 'bullmq';
import { VpnRenderHandler } from '@app/onboarding';
import { KeySealer, newKekJson } from '@app/secrets';
import { ops } from '../support/audit';
import { Browser } from '../support/cookie-jar-browser';
import { call } from '../support/http';
import { freePort } from '../support/nginx';
import { spawnApp } from '../support/processes';
import { startStack } from '../support/stack';
import { testEnv } from '../support/gateway';
import { TEST_KEK } from '../support/tokens';

const run = promisify(execFile);
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
/** An OpenVPN static key (the nodes' tls-crypt keys). */
const STATIC_KEY = /-----BEGIN OpenVPN Static key V1-----/;
/** A private JWK member (RSA and EC: "d"; RSA CRT: "p", "q", "dp", "dq", "qi"). */
const JWK_PRIVATE = /"(d|p|q|dp|dq|qi)"\s*:\s*"/;
const DOMAIN = 'keys.localhost';

jest.setTimeout(120_000);

/**
 * Private keys at rest: after onboarding containers, issuing their VPN profiles and the node's
 * server certificate, and signing a user in through the OpenID provider, a `pg_dump` of the
 * database holds no private key in the clear (PEM, JWK, or a node's OpenVPN tls-crypt key); rows of before (plaintext keys) are
 * sealed at start without losing a key; the certificates lib's keys (ACME accounts, Stage 1
 * certificates) are sealed under the same KEK and resealed with the rest (`ops reseal-keys`, the
 * worker's start); a process with a wrong or missing KEK refuses to start, naming KEY_ENCRYPTION_KEYS.
 */
describe('security: private keys at rest', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let filesDir: string;
  let issuer: string;
  const profiles: { id: string; token: string; key: string; tlsCrypt: string }[] = [];

  const dump = async () => {
    const { stdout } = await run('pg_dump', ['--no-owner', stack.config.database.url], { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  };
  const keyOf = (profile: string) => /<key>\n([\s\S]*?)\n<\/key>/.exec(profile)![1];
  const tlsCryptOf = (profile: string) => /<tls-crypt>\n([\s\S]*?)\n<\/tls-crypt>/.exec(profile)![1];
  /** The lines of a static key's hex body (16 bytes each): none may appear in the dump. */
  const hexLines = (key: string) => key.split('\n').filter((l) => /^[0-9a-f]{32}$/.test(l));

  beforeAll(async () => {
    filesDir = mkdtempSync(join(tmpdir(), 'cgw-keys-'));
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/oidc`;
    stack = await startStack('keys_rest', {
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      PLATFORM_DOMAIN: DOMAIN,
      SSO_ISSUER: issuer,
      SSO_SERVICE_SCHEME: 'http',
      VPN_FILES_DIR: filesDir,
      VPN_POOL_CIDR: '127.79.0.0/16',
    });
    await stack.startGateway(port);
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(filesDir, { recursive: true, force: true });
  });

  it('a pg_dump after onboarding, VPN profiles, the server certificate and an SSO sign-in holds no private key in the clear', async () => {
    const op = stack.operator();
    const project = randomUUID();
    // A project belongs to one org (test/security/registration.spec.ts).
    const org = randomUUID();
    for (let i = 0; i < 3; i++) {
      const reg = await call(stack.url, 'POST', '/onboarding/containers', op, {
        org_id: org,
        project_id: project,
        image_id: 'pgadmin:4',
        display_name: `keys ${i}`,
      });
      expect(reg.status).toBe(201);
      const profile = await call(stack.url, 'GET', '/collab/vpn-config', reg.body.token, undefined, {
        accept: 'application/x-openvpn-profile',
      });
      expect(profile.status).toBe(200);
      profiles.push({ id: reg.body.container_id, token: reg.body.token, key: keyOf(profile.text), tlsCrypt: tlsCryptOf(profile.text) });
    }
    // The profile carries the container's key and the node's tls-crypt key (so a plaintext copy would be visible below).
    for (const p of profiles) expect(p.key).toMatch(PEM_PRIVATE);
    for (const p of profiles) expect(p.tlsCrypt).toMatch(STATIC_KEY);
    expect(hexLines(profiles[0].tlsCrypt)).toHaveLength(16);
    // The node's server certificate and key (what the worker renders for OpenVPN).
    const rendered = await new VpnRenderHandler(stack.pool, stack.config, stack.gateway.get(KeySealer)).handle(
      {} as Job<{ reason: string }>,
    );
    expect(rendered.skipped).toEqual([]);
    const serverKey = readFileSync(join(filesDir, 'default', 'server.key'), 'utf8');
    expect(serverKey).toMatch(PEM_PRIVATE);
    // The server's copy of the tls-crypt key is the one the profiles carry.
    expect(readFileSync(join(filesDir, 'default', 'ta.key'), 'utf8').trim()).toBe(profiles[0].tlsCrypt.trim());

    // A user signs in at the provider with a container's OAuth client (code + PKCE up to the redirect).
    const email = `keys-${randomUUID().slice(0, 8)}@example.com`;
    const user = await call(stack.url, 'POST', '/sso/users', op, { email, name: 'Key Tester', password: 'correct horse battery' });
    expect(user.status).toBe(201);
    expect((await call(stack.url, 'PUT', `/sso/projects/${project}/members/${user.body.user_id}`, op)).status).toBe(200);
    const reg = await call(stack.url, 'POST', '/onboarding/containers', op, {
      org_id: org,
      project_id: project,
      image_id: 'pgadmin:4',
      display_name: 'sso',
    });
    const client = reg.body.settings_decoded.oauth_clients[0];
    const auth = new URL(`${issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0],
      response_type: 'code',
      scope: 'openid email',
      state: randomUUID(),
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }))
      auth.searchParams.set(k, v);
    const browser = new Browser({ domain: DOMAIN, nginxPort: 1 });
    const pages = await browser.follow(auth.href);
    const form = pages[pages.length - 1];
    expect(form.status).toBe(200);
    const action = new URL(/action="([^"]+)"/.exec(form.body)![1], form.url).href;
    const posted = await browser.postForm(action, { login: email, password: 'correct horse battery' });
    expect(posted.status).toBe(303);
    const back = await browser.follow(new URL(posted.location!, posted.url).href, (u) => !u.href.startsWith(issuer));
    expect(new URL(back[back.length - 1].url).searchParams.get('code')).toBeTruthy();
    const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA' });

    const text = await dump();
    // The dump is the real thing: it holds the rows, sealed.
    expect(text).toContain('COPY public.vpn_client_certs');
    expect(text).toContain('COPY public.vpn_tls_crypt_keys');
    expect(text).toContain(profiles[0].id);
    expect((text.match(/sealed:v1:test-kek:/g) ?? []).length).toBeGreaterThanOrEqual(profiles.length + 4);
    expect(text).not.toMatch(PEM_PRIVATE);
    expect(text).not.toMatch(JWK_PRIVATE);
    for (const p of profiles) expect(text).not.toContain(p.key.split('\n')[1]);
    expect(text).not.toContain(serverKey.split('\n')[1]);
    expect(text).not.toMatch(STATIC_KEY);
    for (const line of hexLines(profiles[0].tlsCrypt)) expect(text).not.toContain(line);
  });

  it('rows written before sealing (plaintext keys) are sealed at the next start, and every key is still the same', async () => {
    const sealer = stack.gateway.get(KeySealer);
    // Turn the database back into one from before this change: keys in the clear.
    for (const t of ['vpn_client_certs', 'vpn_server_certs'] as const) {
      const { rows } = await stack.pool.query(`SELECT serial, key_pkcs8 FROM ${t}`);
      for (const r of rows)
        await stack.pool.query(`UPDATE ${t} SET key_pkcs8 = $1 WHERE serial = $2`, [
          await sealer.open(r.key_pkcs8, `${t}:${r.serial}`),
          r.serial,
        ]);
    }
    const ca = (await stack.pool.query(`SELECT key_pkcs8 FROM vpn_ca`)).rows[0].key_pkcs8;
    await stack.pool.query(`UPDATE vpn_ca SET key_pkcs8 = $1`, [await sealer.open(ca, 'vpn_ca:1')]);
    const { rows: tls } = await stack.pool.query(`SELECT gateway_node, key_text FROM vpn_tls_crypt_keys`);
    expect(tls.length).toBeGreaterThan(0);
    for (const r of tls)
      await stack.pool.query(`UPDATE vpn_tls_crypt_keys SET key_text = $1 WHERE gateway_node = $2`, [
        await sealer.open(r.key_text, `vpn_tls_crypt_keys:${r.gateway_node}`),
        r.gateway_node,
      ]);
    const before = await dump();
    expect(before).toMatch(PEM_PRIVATE);
    expect(before).toMatch(STATIC_KEY);

    await stack.stopGateway();
    await stack.startGateway(Number(new URL(issuer).port));
    const after = await dump();
    expect(after).not.toMatch(PEM_PRIVATE);
    expect(after).not.toMatch(STATIC_KEY);
    for (const p of profiles) {
      const again = await call(stack.url, 'GET', '/collab/vpn-config', p.token, undefined, { accept: 'application/x-openvpn-profile' });
      expect(again.status).toBe(200);
      expect(keyOf(again.text)).toBe(p.key);
      expect(tlsCryptOf(again.text)).toBe(p.tlsCrypt);
    }
  });

  it('certificate keys (ACME account, Stage 1 certificates) are sealed under the same KEK, bound to their row; ops reseal-keys seals plaintext ones', async () => {
    const sealer = stack.gateway.get(KeySealer);
    const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const account = { url: 'https://acme.keys.test/directory', key: pem() };
    const cert = { subject: `org-${randomUUID()}`, key: pem() };
    // Rows as a worker writes them, but with the keys in the clear (what resealing must catch).
    await stack.pool.query(`INSERT INTO acme_accounts (directory_url, key_sealed) VALUES ($1, $2)`, [account.url, account.key]);
    await stack.pool.query(
      `INSERT INTO certificates (subject, names, serial, fingerprint, not_before, not_after, chain_pem, key_sealed, issuer, account)
       VALUES ($1, $2, '01', 'ff', now(), now() + interval '90 days', 'chain', $3, 'test', $4)`,
      [cert.subject, [`*.${cert.subject}.${DOMAIN}`], cert.key, account.url],
    );
    expect(await dump()).toMatch(PEM_PRIVATE);

    const res = await ops(['reseal-keys'], testEnv(stack.config.database.url, 'keys_ops') as Record<string, string>);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('acme_accounts.key_sealed: 1 resealed under "test-kek"');
    expect(res.stdout).toContain('certificates.key_sealed: 1 resealed under "test-kek"');

    const text = await dump();
    expect(text).not.toMatch(PEM_PRIVATE);
    const sealedAccount = (await stack.pool.query(`SELECT key_sealed FROM acme_accounts WHERE directory_url = $1`, [account.url])).rows[0]
      .key_sealed as string;
    const sealedCert = (await stack.pool.query(`SELECT key_sealed FROM certificates WHERE subject = $1`, [cert.subject])).rows[0]
      .key_sealed as string;
    for (const [sealed, key] of [
      [sealedAccount, account.key],
      [sealedCert, cert.key],
    ]) {
      expect(sealed).toMatch(/^sealed:v1:test-kek:/);
      expect(sealed).not.toContain(key.split('\n')[1]);
      expect(text).not.toContain(key.split('\n')[1]);
    }
    // The same keys, sealed for their rows (`<table>:<id>`, what the certificates lib opens them with).
    expect(await sealer.open(sealedAccount, `acme_accounts:${account.url}`)).toBe(account.key);
    expect(await sealer.open(sealedCert, `certificates:${cert.subject}`)).toBe(cert.key);
    await expect(sealer.open(sealedCert, 'certificates:org-other')).rejects.toThrow(/copied from another row/);
  });

  it('KEK rotation: a new active KEK re-wraps every key at start (gateway and worker); then the old KEK can go', async () => {
    const next = { ...JSON.parse(TEST_KEK), ...newKekJson('kek-2') };
    await stack.stopGateway();
    const env = testEnv(stack.config.database.url, 'keys_rot', {
      KEY_ENCRYPTION_KEYS: JSON.stringify(next),
      KEY_ENCRYPTION_ACTIVE_ID: 'kek-2',
    });
    const rotated = await spawnApp('gateway', env);
    await rotated.stop();
    // The gateway reseals the columns it uses; the worker's start reseals the certificates lib's too.
    const rotatedWorker = await spawnApp('worker', env);
    await rotatedWorker.stop();
    const text = await dump();
    expect(text).not.toContain('sealed:v1:test-kek:');
    expect((text.match(/sealed:v1:kek-2:/g) ?? []).length).toBeGreaterThan(profiles.length);
    // Only the new KEK: starts, and serves the same key.
    const onlyNew = await spawnApp('gateway', { ...env, KEY_ENCRYPTION_KEYS: JSON.stringify({ 'kek-2': next['kek-2'] }) });
    try {
      const again = await call(onlyNew.url, 'GET', '/collab/vpn-config', profiles[0].token, undefined, {
        accept: 'application/x-openvpn-profile',
      });
      expect(keyOf(again.text)).toBe(profiles[0].key);
    } finally {
      await onlyNew.stop();
    }
    // The old KEK alone no longer opens anything: refused at start, naming the setting.
    await expect(spawnApp('gateway', testEnv(stack.config.database.url, 'keys_old'))).rejects.toThrow(
      /KEY_ENCRYPTION_KEYS: keys in the database are sealed under "kek-2", which is not configured/,
    );
  });

  it.each(['gateway', 'worker'] as const)('%s: a wrong KEK fails at start, naming KEY_ENCRYPTION_KEYS', async (kind) => {
    const wrong = JSON.stringify(newKekJson('kek-2'));
    const env = testEnv(stack.config.database.url, `keys_wrong_${kind}`, { KEY_ENCRYPTION_KEYS: wrong, WORKER_HTTP_PORT: '0' });
    await expect(spawnApp(kind, env)).rejects.toThrow(/KEY_ENCRYPTION_KEYS: key "kek-2" does not open the keys sealed in the database/);
  });

  it('production without a KEK refuses to start, naming KEY_ENCRYPTION_KEYS', async () => {
    const env = testEnv(stack.config.database.url, 'keys_prod', {
      NODE_ENV: 'production',
      KEY_ENCRYPTION_KEYS: '',
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      SSO_ISSUER: 'https://gw.example.test/oidc',
    });
    await expect(spawnApp('gateway', env)).rejects.toThrow(/KEY_ENCRYPTION_KEYS: is required in production/);
  });
});
