import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { rotateTokenKeys, TokenService } from '@app/auth';
import { call } from '../support/http';
import { startTestGateway, TestGateway } from '../support/gateway';
import { eventually } from '../support/stack';
import {
  forgeHmac,
  TEST_HS256_KID,
  TEST_HS256_SECRET,
  TEST_KID,
  TEST_PRIVATE_JWKS,
  TEST_PRIVATE_KEY,
  TEST_PUBLIC_JWKS,
  TEST_PUBLIC_PEM,
  testTokens,
} from '../support/tokens';

// Starting a gateway takes seconds on a shared 2-core machine (and three more start below).
jest.setTimeout(60_000);

/**
 * Token and identity attacks beyond test/e2e/ingest.spec.ts "tokens" (alg none, wrong key, no exp,
 * expired, aud, iss, unknown kid) and test/integration/onboarding.spec.ts (rotated and deleted
 * tokens): key confusion, roles on every operator endpoint, another org's viewer, and container A
 * writing as B on each container endpoint. Each: the status, the field named, nothing stored.
 */
describe('security: tokens, roles and identity', () => {
  let gw: TestGateway;
  let op: string;
  const watchdog = (project: string) => ({ event: { type: 'user-container:watchdog' }, project_id: project });

  /** Events, routes and onboarded containers: none may change on a refused request. */
  const state = async () => {
    const { rows } = await gw.pool.query(
      `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM routes)::int AS routes,
              (SELECT count(*) FROM onboarded_containers)::int AS containers`,
    );
    return rows[0];
  };
  const refused = async (send: () => Promise<{ status: number; body: any }>, status: number, field: string) => {
    const before = await state();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.field).toBe(field);
    expect(await state()).toEqual(before);
    return res;
  };

  beforeAll(async () => {
    gw = await startTestGateway('sec_tokens');
    op = gw.tokens.sign({ sub: 'op-security', role: 'operator' }, 3600);
  });
  afterAll(async () => {
    await gw.close();
  });

  describe('key confusion', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const claims = () => ({
      role: 'container',
      org: randomUUID(),
      project: randomUUID(),
      sub: randomUUID(),
      iss: 'collab-gateway',
      aud: 'collab-gateway',
      exp: Math.floor(Date.now() / 1000) + 600,
    });

    it.each([
      ['HS256 signed with a public key as the HMAC secret', () => jwt.sign(claims(), pem, { algorithm: 'HS256', keyid: TEST_KID })],
      [
        'HS256 signed with our own public key (PEM) as the HMAC secret',
        () => forgeHmac({ alg: 'HS256', typ: 'JWT', kid: TEST_KID }, claims(), TEST_PUBLIC_PEM),
      ],
      ['alg none under our kid', () => forgeHmac({ alg: 'none', kid: TEST_KID }, claims(), '')],
      ['ES256 under an unknown kid', () => jwt.sign(claims(), TEST_PRIVATE_KEY, { algorithm: 'ES256', keyid: 'nope' })],
      ['ES256 with no kid', () => jwt.sign(claims(), TEST_PRIVATE_KEY, { algorithm: 'ES256' })],
      [
        'HS256 under a legacy kid while the migration window is off',
        () => forgeHmac({ alg: 'HS256', kid: TEST_HS256_KID }, claims(), Buffer.from(TEST_HS256_SECRET, 'base64')),
      ],
      ['RS256 signed with a private key under our kid', () => jwt.sign(claims(), privateKey, { algorithm: 'RS256', keyid: TEST_KID })],
      ['HS512 with our kid but no secret of ours', () => jwt.sign(claims(), 'x'.repeat(64), { algorithm: 'HS512', keyid: TEST_KID })],
      [
        'a token whose signature was stripped',
        () => jwt.sign(claims(), 'y'.repeat(64), { algorithm: 'HS256', keyid: TEST_KID }).replace(/\.[^.]+$/, '.'),
      ],
    ])('401 for %s', async (_what, token) => {
      const t = token();
      const project = (jwt.decode(t) as { project: string }).project;
      await refused(() => gw.post('/collab/event', watchdog(project), t), 401, 'authorization');
    });
  });

  describe('roles', () => {
    const org = randomUUID();
    const register = { org_id: org, project_id: randomUUID(), image_id: 'ubuntu:terminal', display_name: 'x' };

    it.each([
      ['POST', '/onboarding/containers', register],
      ['GET', '/onboarding/gateway-nodes', undefined],
      ['POST', '/onboarding/gateway-nodes', { node_id: 'evil', fqdn: 'evil.example', vpn_endpoint: 'evil.example:1194' }],
      ['GET', '/projections', undefined],
      ['POST', '/projections/routing/rebuild', undefined],
      ['GET', '/containers', undefined],
    ])('a container token on %s %s: 403', async (method, path, body) => {
      const c = gw.container();
      await refused(() => call(gw.url, method, path, c.token, body), 403, 'authorization');
    });

    it('a viewer token on operator endpoints and on the container endpoints: 403', async () => {
      const viewer = gw.tokens.sign({ sub: 'viewer-x', role: 'viewer', org }, 600);
      await refused(() => call(gw.url, 'POST', '/onboarding/containers', viewer, register), 403, 'authorization');
      await refused(() => call(gw.url, 'POST', '/projections/routing/rebuild', viewer), 403, 'authorization');
      await refused(() => gw.post('/collab/event', watchdog(randomUUID()), viewer), 403, 'authorization');
      await refused(() => call(gw.url, 'GET', '/collab/vpn-config', viewer), 403, 'authorization');
    });

    it("a viewer of another org: 403 when it asks for that org, and that org's containers do not exist for it", async () => {
      const reg = await call(gw.url, 'POST', '/onboarding/containers', op, register);
      expect(reg.status).toBe(201);
      const stranger = gw.tokens.sign({ sub: 'viewer-y', role: 'viewer', org: randomUUID() }, 600);
      await refused(() => call(gw.url, 'GET', `/containers?org=${org}`, stranger), 403, 'org');
      await refused(() => call(gw.url, 'GET', `/containers/summary?org=${org}`, stranger), 403, 'org');
      // One container of another org: 404, as if it did not exist (its existence is not disclosed).
      const one = await call(gw.url, 'GET', `/containers/${reg.body.container_id}`, stranger);
      expect(one.status).toBe(404);
      const list = await call(gw.url, 'GET', '/containers', stranger);
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(reg.body.container_id);
    });
  });

  describe('container A writing as container B', () => {
    it.each([
      [
        'B in a top-level container_id',
        (a: any, b: any) => ({ ...watchdog(a.projectId), container_id: b.containerId }),
        400,
        'container_id',
      ],
      ['B in a top-level org_id', (a: any, b: any) => ({ ...watchdog(a.projectId), org_id: b.orgId }), 400, 'org_id'],
      [
        'B in event.org_id',
        (a: any, b: any) => ({ event: { type: 'user-container:watchdog', org_id: b.orgId }, project_id: a.projectId }),
        400,
        'event.org_id',
      ],
      [
        'B in event.project_id',
        (a: any, b: any) => ({ event: { type: 'user-container:watchdog', project_id: b.projectId }, project_id: a.projectId }),
        400,
        'event.project_id',
      ],
      [
        "B's project on a map",
        (_a: any, b: any) => ({ event: { type: 'user-container:map-http-service', name: 'web', port: 80 }, project_id: b.projectId }),
        403,
        'project_id',
      ],
      [
        "B's project on an unmap",
        (_a: any, b: any) => ({ event: { type: 'user-container:unmap-http-service', name: 'web' }, project_id: b.projectId }),
        403,
        'project_id',
      ],
    ])('POST /collab/event with %s', async (_what, body, status, field) => {
      const a = gw.container();
      const b = gw.container();
      await refused(() => gw.post('/collab/event', body(a, b), a.token), status, field);
    });

    it("POST /collab/events with one item in B's project: 403 naming the item, nothing of the batch stored", async () => {
      const a = gw.container();
      const b = gw.container();
      await refused(() => gw.post('/collab/events', [watchdog(a.projectId), watchdog(b.projectId)], a.token), 403, '[1].project_id');
    });

    it("B's event_id replayed by A does not return or overwrite B's event", async () => {
      const a = gw.container();
      const b = gw.container();
      const event_id = randomUUID();
      const mine = await gw.post('/collab/event', { ...watchdog(b.projectId), event_id }, b.token);
      expect(mine.status).toBe(202);
      const replay = await refused(() => gw.post('/collab/event', { ...watchdog(a.projectId), event_id }, a.token), 422, 'event_id');
      expect(replay.body.code).toBe('event_id_conflict');
      expect(JSON.stringify(replay.body)).not.toContain(b.containerId);
      const stored = await gw.events(`watchdog-${b.containerId}`);
      expect(stored).toHaveLength(1);
      expect(await gw.events(`watchdog-${a.containerId}`)).toHaveLength(0);
    });

    it('the VPN profile and token rotation act on the token subject only (query and body are not an identity)', async () => {
      const reg = (
        await call(gw.url, 'POST', '/onboarding/containers', op, {
          org_id: randomUUID(),
          project_id: randomUUID(),
          image_id: 'ubuntu:terminal',
          display_name: 'a',
        })
      ).body;
      const other = (
        await call(gw.url, 'POST', '/onboarding/containers', op, {
          org_id: randomUUID(),
          project_id: randomUUID(),
          image_id: 'ubuntu:terminal',
          display_name: 'b',
        })
      ).body;
      const before = await state();
      const rotated = await call(gw.url, 'POST', `/collab/token?container_id=${other.container_id}`, reg.token, {
        container_id: other.container_id,
      });
      // Whatever the answer to the extra input, B's token still works and B's version did not move.
      expect([200, 400]).toContain(rotated.status);
      expect((await gw.post('/collab/event', watchdog(other.project_id), other.token)).status).toBe(202);
      const { rows } = await gw.pool.query(`SELECT token_version FROM onboarded_containers WHERE container_id = $1`, [other.container_id]);
      expect(rows[0].token_version).toBe(1);
      expect((await state()).containers).toBe(before.containers);
    });
  });
  describe('asymmetric keys: who can sign, rotation, the HS256 window', () => {
    const body = (project: string) => watchdog(project);
    const containerClaims = () => ({ sub: randomUUID(), role: 'container' as const, org: randomUUID(), project: randomUUID() });

    it('serves the public keys as a JWKS with kid, and no private or secret part', async () => {
      const res = await call(gw.url, 'GET', '/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.body.keys).toEqual([expect.objectContaining({ kid: TEST_KID, kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })]);
      expect(JSON.stringify(res.body)).not.toMatch(/"d"|"k"/);
    });

    it('a gateway-only process verifies tokens but holds no private key: it cannot mint one, and onboarding is refused there', async () => {
      const node = await startTestGateway('sec_verify_only', { JWT_PRIVATE_JWKS: '', JWT_PUBLIC_JWKS: TEST_PUBLIC_JWKS });
      try {
        const tokens = node.app.get(TokenService);
        expect(tokens.canSign).toBe(false);
        expect(() => tokens.sign({ sub: 'op', role: 'operator' }, 60)).toThrow(/no token signing key \(JWT_PRIVATE_JWKS\)/);
        // All it has is public: no KeyObject in it can produce a signature.
        const key = tokens.keys.lookup(TEST_KID, 'ES256');
        expect('key' in key && key.key.key.type).toBe('public');
        expect(() => jwt.sign({ role: 'operator' }, 'key' in key ? (key.key.key as never) : '', { algorithm: 'ES256' })).toThrow();
        expect(node.config.jwt.privateJwks).toBeUndefined();
        // Tokens of the platform API verify there.
        const c = gw.container();
        expect((await node.post('/collab/event', body(c.projectId), c.token)).status).toBe(202);
        // Registering a container would mean signing its token: 503 naming the setting, nothing stored.
        const opToken = gw.tokens.sign({ sub: 'op', role: 'operator' }, 600);
        const reg = await call(node.url, 'POST', '/onboarding/containers', opToken, {
          org_id: randomUUID(),
          project_id: randomUUID(),
          image_id: 'ubuntu:terminal',
          display_name: 'x',
        });
        expect(reg.status).toBe(503);
        expect(reg.body.detail).toMatch(/JWT_PRIVATE_JWKS/);
        const { rows } = await node.pool.query(`SELECT count(*)::int AS n FROM onboarded_containers`);
        expect(rows[0].n).toBe(0);
      } finally {
        await node.close();
      }
    }, 60_000);

    it('rotation: tokens under the old kid verify during the overlap (cached or not) and are refused after it', async () => {
      const oldToken = testTokens(gw.config).sign(containerClaims(), 600);
      const oldProject = (jwt.decode(oldToken) as { project: string }).project;
      const overlapS = 4;
      const rotated = rotateTokenKeys({ privateJwks: TEST_PRIVATE_JWKS, publicJwks: TEST_PUBLIC_JWKS, overlapS });
      const node = await startTestGateway('sec_rotation', {
        JWT_PRIVATE_JWKS: rotated.JWT_PRIVATE_JWKS,
        JWT_ACTIVE_KID: rotated.JWT_ACTIVE_KID,
        JWT_PUBLIC_JWKS: rotated.JWT_PUBLIC_JWKS,
      });
      try {
        const retireAt = Date.parse(JSON.parse(rotated.JWT_PUBLIC_JWKS).keys.find((k: { kid: string }) => k.kid === TEST_KID).retire_at);
        const newToken = node.tokens.sign(containerClaims(), 600);
        expect((jwt.decode(newToken, { complete: true }) as { header: { kid: string } }).header.kid).toBe(rotated.JWT_ACTIVE_KID);
        expect(Date.now()).toBeLessThan(retireAt);
        expect((await node.post('/collab/event', body(oldProject), oldToken)).status).toBe(202);
        const jwks = (await call(node.url, 'GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
        expect(jwks).toEqual([rotated.JWT_ACTIVE_KID, TEST_KID]);
        // After retire_at the old kid is refused, although the token itself has not expired and was cached.
        const refusedAfter = await eventually(
          async () => {
            const res = await node.post('/collab/event', body(oldProject), oldToken);
            return res.status === 401 ? res : undefined;
          },
          15_000,
          250,
        );
        expect(Date.now()).toBeGreaterThanOrEqual(retireAt);
        expect(refusedAfter.body.detail).toMatch(new RegExp(`key "${TEST_KID}" was retired`));
        const newProject = (jwt.decode(newToken) as { project: string }).project;
        expect((await node.post('/collab/event', body(newProject), newToken)).status).toBe(202);
        expect((await call(node.url, 'GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid)).toEqual([
          rotated.JWT_ACTIVE_KID,
        ]);
      } finally {
        await node.close();
      }
    }, 60_000);

    it('HS256 tokens pass only in the migration window (JWT_ACCEPT_HS256), and only under their own kid', async () => {
      const legacy = { JWT_KEYS: JSON.stringify({ [TEST_HS256_KID]: TEST_HS256_SECRET }) };
      const secret = Buffer.from(TEST_HS256_SECRET, 'base64');
      const hs = () => {
        const c = containerClaims();
        const now = Math.floor(Date.now() / 1000);
        const token = forgeHmac(
          { alg: 'HS256', typ: 'JWT', kid: TEST_HS256_KID },
          { ...c, iss: 'collab-gateway', aud: 'collab-gateway', iat: now, exp: now + 600 },
          secret,
        );
        return { token, project: c.project };
      };
      const open = await startTestGateway('sec_hs256_on', { ...legacy, JWT_ACCEPT_HS256: 'true' });
      try {
        const t = hs();
        expect((await open.post('/collab/event', body(t.project), t.token)).status).toBe(202);
        // Even in the window: the ES256 kid never takes an HMAC, with our public key or anything else.
        const c = containerClaims();
        const now = Math.floor(Date.now() / 1000);
        const confused = forgeHmac(
          { alg: 'HS256', kid: TEST_KID },
          { ...c, iss: 'collab-gateway', aud: 'collab-gateway', exp: now + 600 },
          TEST_PUBLIC_PEM,
        );
        const res = await open.post('/collab/event', body(c.project), confused);
        expect([res.status, res.body.detail]).toEqual([401, `key "${TEST_KID}" verifies ES256 only, not HS256`]);
        // And tokens are issued as ES256 only.
        expect((jwt.decode(open.tokens.sign(containerClaims(), 60), { complete: true }) as { header: { alg: string } }).header.alg).toBe(
          'ES256',
        );
      } finally {
        await open.close();
      }
      const closed = await startTestGateway('sec_hs256_off', legacy);
      try {
        const t = hs();
        const res = await closed.post('/collab/event', body(t.project), t.token);
        expect([res.status, res.body.field]).toEqual([401, 'authorization']);
      } finally {
        await closed.close();
      }
    }, 60_000);
  });
});
