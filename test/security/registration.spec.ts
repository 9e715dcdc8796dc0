import { randomUUID } from 'node:crypto';
import { verifyPassword } from '@app/sso';
import { call } from '../support/http';
import { startTestGateway, TestGateway } from '../support/gateway';

jest.setTimeout(120_000);

const NIL = '00000000-0000-0000-0000-000000000000';

/**
 * Commands that must be all or nothing, and identities that must be unique in the database:
 * a refused registration leaves no trace (credential, row or event), an email registers once
 * however close together the requests come, a project belongs to one org, and grants name a
 * registered user and a known project.
 */
describe('security: registration, projects and grants', () => {
  let gw: TestGateway;
  let op: string;
  const send = (method: string, path: string, body?: unknown) => call(gw.url, method, path, op, body);
  const credential = async (userId: string) =>
    (await gw.pool.query(`SELECT scrypt FROM sso_credentials WHERE user_id = $1`, [userId])).rows[0]?.scrypt as string | undefined;
  const counts = async () =>
    (
      await gw.pool.query(
        `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM sso_credentials)::int AS credentials,
                (SELECT count(*) FROM platform_users)::int AS users, (SELECT count(*) FROM onboarded_containers)::int AS containers`,
      )
    ).rows[0];
  const email = () => `u-${randomUUID().slice(0, 8)}@example.com`;

  beforeAll(async () => {
    gw = await startTestGateway('sec_registration');
    op = gw.tokens.sign({ sub: 'op-security', role: 'operator' }, 3600);
  });
  afterAll(async () => {
    await gw?.close();
  });

  describe('a refused registration changes nothing', () => {
    it('the same user_id again (409) keeps the stored password: the old one still verifies, the new one does not', async () => {
      const first = await send('POST', '/sso/users', { email: email(), name: 'Ann', password: 'first password 123' });
      expect(first.status).toBe(201);
      const id = first.body.user_id;
      const stored = await credential(id);
      const before = await counts();
      for (const body of [
        { user_id: id, email: email(), name: 'Mallory', password: 'second password 456' },
        { user_id: id, email: first.body.email, name: 'Ann', password: 'second password 456' },
        { user_id: id, email: first.body.email.toUpperCase(), name: 'Ann' },
      ]) {
        const again = await send('POST', '/sso/users', body);
        expect(again.status).toBe(409);
        expect(again.body.field).toMatch(/^(user_id|email)$/);
      }
      expect(await credential(id)).toBe(stored);
      expect(await verifyPassword(stored!, 'first password 123')).toBe(true);
      expect(await verifyPassword(stored!, 'second password 456')).toBe(false);
      expect(await counts()).toEqual(before);
    });

    it('a taken email under a new user_id (409 email) writes no credential for that id', async () => {
      const taken = email();
      expect((await send('POST', '/sso/users', { email: taken, name: 'Ann', password: 'first password 123' })).status).toBe(201);
      const before = await counts();
      const id = randomUUID();
      const r = await send('POST', '/sso/users', {
        user_id: id,
        email: taken.replace('u-', 'U-'),
        name: 'Eve',
        password: 'another password 1',
      });
      expect([r.status, r.body.field]).toEqual([409, 'email']);
      expect(await credential(id)).toBeUndefined();
      expect(await counts()).toEqual(before);
    });

    it('an append that fails after the credential was written rolls the credential and the email back', async () => {
      // The user's stream exists (as after a crash between append and commit): the append is refused.
      const id = randomUUID();
      await gw.store.append(`user-${id}`, [
        { type: 'platform-user:registered', data: { user_id: id, email: 'ghost@example.com', name: 'G' } },
      ]);
      const before = await counts();
      const mail = email();
      const r = await send('POST', '/sso/users', { user_id: id, email: mail, name: 'Ann', password: 'a long password 1' });
      expect([r.status, r.body.field]).toEqual([409, 'user_id']);
      expect(await credential(id)).toBeUndefined();
      expect(await counts()).toEqual(before);
      // The email was not kept either: it registers under another id.
      expect((await send('POST', '/sso/users', { email: mail, name: 'Ann', password: 'a long password 1' })).status).toBe(201);
    });
  });

  it('the same email from 20 requests at once (in any case): one 201, the others 409 naming email, one event', async () => {
    const mail = email();
    const variants = [mail, mail.toUpperCase(), mail.replace('@', '@'.toString()).replace(/^u/, 'U')];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send('POST', '/sso/users', { email: variants[i % 3], name: `N${i}`, password: 'a long password 1' }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expect([r.status, r.body.field]).toEqual([409, 'email']);
    const { rows } = await gw.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE event_type = 'platform-user:registered' AND lower(data->>'email') = $1`,
      [mail],
    );
    expect(rows[0].n).toBe(1);
  });

  describe('a project belongs to one org', () => {
    const register = (org: string, project: string) =>
      send('POST', '/onboarding/containers', { org_id: org, project_id: project, image_id: 'ubuntu:terminal', display_name: 'sec' });

    it("another org's project is refused (409 project_id) and nothing is registered", async () => {
      const [orgA, orgB, project] = [randomUUID(), randomUUID(), randomUUID()];
      expect((await register(orgA, project)).status).toBe(201);
      expect((await register(orgA, project)).status).toBe(201);
      const before = await counts();
      const r = await register(orgB, project);
      expect([r.status, r.body.field]).toEqual([409, 'project_id']);
      expect(await counts()).toEqual(before);
    });

    it('two first registrations of one project from two orgs at once: the project ends in one org', async () => {
      const [orgA, orgB, project] = [randomUUID(), randomUUID(), randomUUID()];
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => register(i % 2 ? orgA : orgB, project)));
      const { rows } = await gw.pool.query(`SELECT DISTINCT org_id::text FROM onboarded_containers WHERE project_id = $1`, [project]);
      expect(rows).toHaveLength(1);
      const winner = rows[0].org_id;
      results.forEach((r, i) => {
        if ((i % 2 ? orgA : orgB) === winner) expect(r.status).toBe(201);
        else expect([r.status, r.body.field]).toEqual([409, 'project_id']);
      });
    });

    it.each([
      ['org_id', () => register(NIL, randomUUID())],
      ['project_id', () => register(randomUUID(), NIL)],
    ])('the nil UUID as %s is refused (400)', async (field, send) => {
      const before = await counts();
      const r = await send();
      expect([r.status, r.body.field]).toEqual([400, field]);
      expect(await counts()).toEqual(before);
    });
  });

  describe('grants name a registered user and a known project', () => {
    let user: string;
    let project: string;
    beforeAll(async () => {
      user = (await send('POST', '/sso/users', { email: email(), name: 'Ann' })).body.user_id;
      project = randomUUID();
      expect(
        (
          await send('POST', '/onboarding/containers', {
            org_id: randomUUID(),
            project_id: project,
            image_id: 'ubuntu:terminal',
            display_name: 'g',
          })
        ).status,
      ).toBe(201);
    });

    it.each([
      ['a user never registered', () => `/sso/projects/${project}/members/${randomUUID()}`, 404, 'user_id'],
      ['a project no container was registered in', () => `/sso/projects/${randomUUID()}/members/${user}`, 404, 'project_id'],
      ['the nil project', () => `/sso/projects/${NIL}/members/${user}`, 400, 'project_id'],
      ['the nil user', () => `/sso/projects/${project}/members/${NIL}`, 404, 'user_id'],
    ])('%s is refused and appends nothing', async (_what, path, status, field) => {
      const before = await counts();
      const r = await send('PUT', path());
      expect([r.status, r.body.field]).toEqual([status, field]);
      expect(await counts()).toEqual(before);
    });

    it('a registered user and a known project are granted', async () => {
      expect((await send('PUT', `/sso/projects/${project}/members/${user}`)).body.status).toBe('granted');
    });
  });
});
