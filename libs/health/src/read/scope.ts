import type { Principal } from '@app/auth';
import { ForbiddenError } from '@app/common';

/**
 * What a dashboard token may see. Viewers: their org only, and within it only their projects when
 * the token lists them. Operators: everything (they may narrow by org). Every read query applies it
 * in SQL, so a viewer can never receive another org's container, not even as a 403.
 */
export interface Scope {
  orgId: string | null;
  projectIds: string[] | null;
}

export function scopeOf(p: Principal, requestedOrg?: string): Scope {
  if (p.role === 'operator') return { orgId: requestedOrg ?? null, projectIds: null };
  if (p.role === 'viewer' && p.orgId) {
    if (requestedOrg && requestedOrg !== p.orgId) throw ForbiddenError.of('org', "is not the token's org");
    return { orgId: p.orgId, projectIds: p.projectIds?.length ? p.projectIds : null };
  }
  throw ForbiddenError.of('authorization', 'this token may not read dashboards');
}

/** Appends the scope's conditions (on columns org_id, project_id of `alias`) to a WHERE list. */
export function scopeSql(scope: Scope, alias: string, where: string[], params: unknown[]): void {
  if (scope.orgId) {
    params.push(scope.orgId);
    where.push(`${alias}.org_id = $${params.length}::uuid`);
  }
  if (scope.projectIds) {
    params.push(scope.projectIds);
    where.push(`${alias}.project_id = ANY($${params.length}::uuid[])`);
  }
}

export function inScope(scope: Scope, row: { org_id: string; project_id: string }): boolean {
  return (!scope.orgId || row.org_id === scope.orgId) && (!scope.projectIds || scope.projectIds.includes(row.project_id));
}
