import { dashboardRedirectUri, decideDashboardRole } from './dashboard';

const alice = { userId: 'A1B2-uuid', email: 'Alice@Example.com' };
const m = (org_id: string, project_id: string) => ({ org_id, project_id });

describe('decideDashboardRole', () => {
  it('makes users named by id or email (any case) operators', () => {
    expect(decideDashboardRole(alice, ['alice@example.com'], [])).toEqual({ role: 'operator' });
    expect(decideDashboardRole(alice, ['a1b2-uuid'], [])).toEqual({ role: 'operator' });
    expect(decideDashboardRole(alice, ['bob@example.com'], [m('o1', 'p1')]).role).toBe('viewer');
  });

  it('makes members viewers of their projects in the org where they have the most', () => {
    expect(decideDashboardRole(alice, [], [m('o2', 'p3'), m('o1', 'p2'), m('o1', 'p1'), m('o1', 'p1')])).toEqual({
      role: 'viewer',
      org: 'o1',
      projects: ['p1', 'p2'],
    });
    expect(decideDashboardRole(alice, [], [m('o2', 'p3'), m('o1', 'p2')])).toMatchObject({ org: 'o1', projects: ['p2'] });
  });

  it('gives a user with no project no dashboard', () => {
    expect(decideDashboardRole(alice, [], [])).toMatchObject({ role: 'none' });
  });

  it('redirects to the issuer origin', () => {
    expect(dashboardRedirectUri('https://gw.example:8443/oidc')).toBe('https://gw.example:8443/dashboard/');
  });
});
