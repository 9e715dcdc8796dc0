import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startTestGateway, TestGateway } from '../support/gateway';
import { signRaw, TEST_KID, TEST_PRIVATE_KEY } from '../support/tokens';

const WATCHDOG_FROM_SEED = {
  type: 'user-container:watchdog',
  system: {
    cpu: { usage: '0.40, 0.43 ', count: '2', threads_per_core: '1', model: 'AMD EPYC' },
    memory: { free: 23665, total: 24105 },
    disk: { size: '252G', usage: '23.00%' },
    network: { ping_time: ' ms' },
    graphic: { cards: '' },
  },
};

describe('POST /collab/event (end to end over HTTP, real PostgreSQL)', () => {
  let gw: TestGateway;

  // A gateway start takes seconds when the shared machine is loaded; the default 5 s hook timeout failed the whole file.
  beforeAll(async () => {
    gw = await startTestGateway('ingest');
  }, 60_000);
  afterAll(async () => {
    await gw.close();
  });

  it('accepts the seed script body with a scheme-less Authorization header and stores it durably', async () => {
    const c = gw.container();
    const res = await gw.post('/collab/event', { event: WATCHDOG_FROM_SEED, project_id: c.projectId }, undefined, {
      authorization: c.token,
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted', event_id: expect.any(String), position: expect.stringMatching(/^\d+$/) });
    const stored = await gw.events(`watchdog-${c.containerId}`);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      event_type: 'user-container:watchdog',
      event_id: res.body.event_id,
      data: { container_id: c.containerId, org_id: c.orgId, project_id: c.projectId, system: WATCHDOG_FROM_SEED.system },
      metadata: { actor: { type: 'container', id: c.containerId }, source_address: '127.0.0.1', received_at: expect.any(String) },
    });
  });

  it('maps, re-maps unchanged (nothing appended), re-maps to a new port and unmaps', async () => {
    const c = gw.container();
    const map = (port: number) =>
      gw.post(
        '/collab/event',
        { event: { type: 'user-container:map-http-service', name: 'terminal', port }, project_id: c.projectId },
        c.token,
      );
    const first = await map(7681);
    expect(first.status).toBe(202);
    const again = await map(7681);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'unchanged', event_id: first.body.event_id, position: first.body.position });
    expect((await map(7682)).status).toBe(202);
    const unmap = () =>
      gw.post(
        '/collab/event',
        { event: { type: 'user-container:unmap-http-service', name: 'terminal' }, project_id: c.projectId },
        c.token,
      );
    expect((await unmap()).status).toBe(202);
    expect((await unmap()).status).toBe(200);
    const stored = await gw.events(`container-${c.containerId}`);
    expect(stored.map((e) => [e.event_type, e.data.port])).toEqual([
      ['user-container:http-service-mapped', 7681],
      ['user-container:http-service-mapped', 7682],
      ['user-container:http-service-unmapped', undefined],
    ]);
  });

  it('answers a retried event_id with the original answer, 50 times at once, storing one event', async () => {
    const c = gw.container();
    const event_id = randomUUID();
    const body = { event: { type: 'user-container:map-http-service', name: 'jupyter', port: 8888 }, project_id: c.projectId, event_id };
    const answers = await Promise.all(Array.from({ length: 50 }, () => gw.post('/collab/event', body, c.token)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await gw.events(`container-${c.containerId}`)).toHaveLength(1);

    const wd = { event: WATCHDOG_FROM_SEED, project_id: c.projectId, event_id: randomUUID() };
    const wds = await Promise.all(Array.from({ length: 20 }, () => gw.post('/collab/event', wd, c.token)));
    expect(new Set(wds.map((a) => JSON.stringify([a.status, a.body]))).size).toBe(1);
    expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(1);

    const conflict = await gw.post('/collab/event', { ...body, event: { ...body.event, port: 9999 } }, c.token);
    expect(conflict.status).toBe(422);
    expect(conflict.body.code).toBe('event_id_conflict');
  });

  it('takes the container from the token alone: A cannot write as B', async () => {
    const a = gw.container();
    const b = gw.container();
    // A's token with B's project: refused, naming the field.
    const res = await gw.post('/collab/event', { event: WATCHDOG_FROM_SEED, project_id: b.projectId }, a.token);
    expect(res.status).toBe(403);
    expect(res.body.field).toBe('project_id');
    // Identity fields in the body are unknown fields, never an identity.
    const spoof = await gw.post(
      '/collab/event',
      { event: { ...WATCHDOG_FROM_SEED, container_id: b.containerId }, project_id: a.projectId },
      a.token,
    );
    expect(spoof.status).toBe(400);
    expect(spoof.body.field).toBe('event.container_id');
    const ok = await gw.post('/collab/event', { event: WATCHDOG_FROM_SEED, project_id: a.projectId }, a.token);
    expect(ok.status).toBe(202);
    expect(await gw.events(`watchdog-${b.containerId}`)).toHaveLength(0);
    expect(await gw.events(`watchdog-${a.containerId}`)).toHaveLength(1);
  });

  describe('rejects bad input with the field named and nothing appended', () => {
    const cases: [string, (p: string) => unknown, number, string][] = [
      ['unknown top-level field', (p) => ({ event: WATCHDOG_FROM_SEED, project_id: p, extra: 1 }), 400, 'extra'],
      ['missing project_id', () => ({ event: WATCHDOG_FROM_SEED }), 400, 'project_id'],
      ['project_id not a uuid', () => ({ event: WATCHDOG_FROM_SEED, project_id: 'x' }), 400, 'project_id'],
      ['event_id not a uuid', (p) => ({ event: WATCHDOG_FROM_SEED, project_id: p, event_id: 'abc' }), 400, 'event_id'],
      ['unknown event type', (p) => ({ event: { type: 'user-container:explode' }, project_id: p }), 400, 'event.type'],
      [
        'stat of a wrong type',
        (p) => ({ event: { type: 'user-container:watchdog', system: { cpu: { usage: { a: 1 } } } }, project_id: p }),
        400,
        'event.system.cpu.usage',
      ],
      [
        'stat too long',
        (p) => ({ event: { type: 'user-container:watchdog', system: { cpu: { model: 'x'.repeat(300) } } }, project_id: p }),
        400,
        'event.system.cpu.model',
      ],
      [
        'unknown stat group',
        (p) => ({ event: { type: 'user-container:watchdog', system: { gpu: {} } }, project_id: p }),
        400,
        'event.system.gpu',
      ],
      [
        'NUL in a stat',
        (p) => ({ event: { type: 'user-container:watchdog', system: { cpu: { model: 'a\u0000b' } } }, project_id: p }),
        400,
        'event.system.cpu.model',
      ],
      ...(
        [
          ['CR/LF', 'web\r\nx'],
          ['semicolon', 'web;'],
          ['brace', 'web{'],
          ['hash', 'web#1'],
          ['dollar', '$host'],
          ['quote', 'we"b'],
          ['space', 'we b'],
          ['uppercase', 'Web'],
          ['non-ASCII', 'wéb'],
          ['double dash', 'we--b'],
          ['trailing dash', 'web-'],
          ['too long', 'a'.repeat(23)],
          ['empty', ''],
        ] as const
      ).map(
        ([what, name]) =>
          [
            `service name with ${what}`,
            (p: string) => ({ event: { type: 'user-container:map-http-service', name, port: 80 }, project_id: p }),
            400,
            'event.name',
          ] as [string, (p: string) => unknown, number, string],
      ),
      ...(
        [
          ['a string', '80; include /etc/passwd'],
          ['zero', 0],
          ['65536', 65536],
          ['a float', 80.5],
          ['hex text', '0x50'],
          ['negative', -1],
          ['missing', undefined],
        ] as const
      ).map(
        ([what, port]) =>
          [
            `port ${what}`,
            (p: string) => ({ event: { type: 'user-container:map-http-service', name: 'web', port }, project_id: p }),
            400,
            'event.port',
          ] as [string, (p: string) => unknown, number, string],
      ),
      [
        'services entry with a bad name',
        (p) => ({ event: { type: 'user-container:watchdog', services: [{ name: 'A;', healthy: true }] }, project_id: p }),
        400,
        'event.services[0].name',
      ],
    ];

    it.each(cases)('%s', async (_what, body, status, field) => {
      const c = gw.container();
      const res = await gw.post('/collab/event', body(c.projectId), c.token);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.field).toBe(field);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(0);
      expect(await gw.events(`container-${c.containerId}`)).toHaveLength(0);
    });

    it('invalid JSON, __proto__ keys, wrong content type and an oversized body', async () => {
      const c = gw.container();
      const bad = await gw.post('/collab/event', '{"event": ', c.token);
      expect([bad.status, bad.body.field]).toEqual([400, 'body']);
      const proto = await gw.post(
        '/collab/event',
        `{"event":{"type":"user-container:watchdog"},"project_id":"${c.projectId}","__proto__":{"x":1}}`,
        c.token,
      );
      expect([proto.status, proto.body.field]).toEqual([400, '__proto__']);
      const text = await gw.post('/collab/event', 'hello', c.token, { 'content-type': 'text/plain' });
      expect([text.status, text.body.field]).toEqual([415, 'content-type']);
      const huge = await gw.post(
        '/collab/event',
        { event: { type: 'user-container:watchdog', system: { graphic: { cards: 'x'.repeat(70_000) } } }, project_id: c.projectId },
        c.token,
      );
      expect([huge.status, huge.body.field]).toEqual([413, 'body']);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(0);
    });
  });

  describe('tokens', () => {
    const claims = () => ({ role: 'container', org: randomUUID(), project: randomUUID() });
    const sign = signRaw;
    const post = (token: string, project = randomUUID()) =>
      gw.post('/collab/event', { event: WATCHDOG_FROM_SEED, project_id: project }, token);

    it.each([
      ['no Authorization header', () => ''],
      ['alg none', () => jwt.sign({ ...claims(), sub: randomUUID() }, '', { algorithm: 'none' })],
      [
        'a wrong signature (another ES256 key under our kid)',
        () => sign(claims(), {}, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      ],
      [
        'no exp',
        () =>
          jwt.sign({ ...claims(), sub: randomUUID(), iss: 'collab-gateway', aud: 'collab-gateway' }, TEST_PRIVATE_KEY, {
            algorithm: 'ES256',
            keyid: TEST_KID,
          }),
      ],
      ['expired beyond the tolerance', () => sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 120 })],
      ['a wrong audience', () => sign(claims(), { audience: 'someone-else' })],
      ['a wrong issuer', () => sign(claims(), { issuer: 'evil' })],
      ['an unknown kid', () => sign(claims(), { keyid: 'nope' })],
      ['no role', () => sign({ org: randomUUID(), project: randomUUID() })],
      ['a container token without an org', () => sign({ role: 'container', project: randomUUID() })],
    ])('401 for %s', async (_what, token) => {
      const res = await post(token());
      expect(res.status).toBe(401);
      expect(res.body.field).toBe('authorization');
    });

    it('403 for a viewer or operator token on the container endpoint', async () => {
      const viewer = gw.tokens.sign({ sub: 'someone', role: 'viewer', org: randomUUID() }, 600);
      const res = await post(viewer);
      expect(res.status).toBe(403);
      expect(res.body.field).toBe('authorization');
    });

    it('accepts a token expired within the clock tolerance', async () => {
      const c = claims();
      const res = await post(sign({ ...c, exp: Math.floor(Date.now() / 1000) - 5 }), c.project);
      expect(res.status).toBe(202);
    });
  });

  describe('POST /collab/events (batch)', () => {
    it('stores every item in order, or nothing when any item is invalid', async () => {
      const c = gw.container();
      const items = [
        {
          event: { type: 'user-container:map-http-service', name: 'terminal', port: 7681 },
          project_id: c.projectId,
          event_id: randomUUID(),
        },
        { event: WATCHDOG_FROM_SEED, project_id: c.projectId, event_id: randomUUID() },
        { event: WATCHDOG_FROM_SEED, project_id: c.projectId, event_id: randomUUID() },
      ];
      const bad = await gw.post(
        '/collab/events',
        [...items, { event: { type: 'user-container:map-http-service', name: 'x', port: 0 }, project_id: c.projectId }],
        c.token,
      );
      expect([bad.status, bad.body.field]).toEqual([400, '[3].event.port']);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(0);

      const ok = await gw.post('/collab/events', items, c.token);
      expect(ok.status).toBe(202);
      expect(ok.body.results.map((r: { event_id: string }) => r.event_id)).toEqual(items.map((i) => i.event_id));
      // A retried batch stores nothing twice.
      const again = await gw.post('/collab/events', items, c.token);
      expect(again.body).toEqual(ok.body);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(2);
      expect(await gw.events(`container-${c.containerId}`)).toHaveLength(1);
    });

    it('stores a queue of watchdogs and mappings in order; a resent queue with new events stores only the new ones', async () => {
      const c = gw.container();
      const wd = () => ({ event: WATCHDOG_FROM_SEED, project_id: c.projectId, event_id: randomUUID() });
      const queue = [
        wd(),
        wd(),
        {
          event: { type: 'user-container:map-http-service', name: 'jupyter', port: 8888 },
          project_id: c.projectId,
          event_id: randomUUID(),
        },
        wd(),
        wd(),
      ];
      const first = await gw.post('/collab/events', queue, c.token);
      expect(first.status).toBe(202);
      const positions = first.body.results.map((r: { position: string }) => BigInt(r.position));
      // In order within the request: the mapping after the first two watchdogs, before the others.
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      // The answer to the first try was lost; the container resends its queue with two more events.
      const resent = await gw.post('/collab/events', [...queue, wd(), wd()], c.token);
      expect(resent.status).toBe(202);
      expect(resent.body.results.slice(0, 5)).toEqual(first.body.results);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(6);
      expect(await gw.events(`container-${c.containerId}`)).toHaveLength(1);
      // Another project's event anywhere in the queue: 403 naming it, nothing stored.
      const foreign = await gw.post('/collab/events', [wd(), { ...wd(), project_id: randomUUID() }], c.token);
      expect([foreign.status, foreign.body.field]).toEqual([403, '[1].project_id']);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(6);
    });

    it('bounds the batch', async () => {
      const c = gw.container();
      const many = Array.from({ length: gw.config.http.batchMaxEvents + 1 }, () => ({
        event: { type: 'user-container:watchdog' },
        project_id: c.projectId,
      }));
      const res = await gw.post('/collab/events', many, c.token);
      expect([res.status, res.body.field]).toEqual([400, 'body']);
      const notArray = await gw.post('/collab/events', { event: WATCHDOG_FROM_SEED }, c.token);
      expect([notArray.status, notArray.body.field]).toEqual([400, 'body']);
    });
  });

  it('serves health and the OpenAPI document', async () => {
    expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200);
    const doc = (await (await fetch(`${gw.url}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/collab/event', '/collab/events']));
  });
});
