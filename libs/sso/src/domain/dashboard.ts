/** The dashboard's own OAuth client: public (no secret), authorization code + PKCE, redirect to the gateway's /dashboard/. */
export const DASHBOARD_CLIENT_ID = 'collab-dashboard';
export const DASHBOARD_PATH = '/dashboard/';

/** The dashboard's redirect URI: the issuer's own origin (the provider and the dashboard share it). */
export const dashboardRedirectUri = (issuer: string) => `${new URL(issuer).origin}${DASHBOARD_PATH}`;

export type DashboardRole = { role: 'operator' } | { role: 'viewer'; org: string; projects: string[] } | { role: 'none'; reason: string };

/**
 * Which dashboard role a signed-in user gets. Operators are named in DASHBOARD_OPERATORS (user id
 * or email, lower-cased); everyone else is a viewer of the projects they were granted (project
 * access), within one org: a viewer token names one org, so a member of several orgs sees the org
 * where they have the most projects (ties: the smallest org id). No project, no dashboard.
 */
export function decideDashboardRole(
  account: { userId: string; email: string },
  operators: readonly string[],
  memberships: readonly { org_id: string; project_id: string }[],
): DashboardRole {
  if (operators.includes(account.userId.toLowerCase()) || operators.includes(account.email.toLowerCase())) return { role: 'operator' };
  const byOrg = new Map<string, Set<string>>();
  for (const m of memberships) byOrg.set(m.org_id, (byOrg.get(m.org_id) ?? new Set()).add(m.project_id));
  const best = [...byOrg].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0];
  if (!best) return { role: 'none', reason: 'you were granted no project with containers yet; ask an operator for access' };
  return { role: 'viewer', org: best[0], projects: [...best[1]].sort() };
}
