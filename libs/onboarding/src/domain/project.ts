import { ConflictError } from '@app/common';

/**
 * A project belongs to one org. The first container registered in a project binds it to that
 * container's org (`project:registered` on the `project-{id}` stream, appended with no_stream, so two
 * racing first registrations cannot bind it twice); a registration naming another org is refused.
 */
export const PROJECT_REGISTERED = 'project:registered';
export const projectStream = (projectId: string) => `project-${projectId}`;

export interface ProjectRegisteredData {
  project_id: string;
  org_id: string;
}
export type ProjectEvent = { type: typeof PROJECT_REGISTERED; data: ProjectRegisteredData };

export interface ProjectState {
  version: number;
  orgId?: string;
}

export const initialProject = (): ProjectState => ({ version: -1 });

export function evolveProject(s: ProjectState, e: { type: string; data: unknown; streamVersion: number }): ProjectState {
  if (e.type === PROJECT_REGISTERED) return { version: e.streamVersion, orgId: (e.data as ProjectRegisteredData).org_id };
  return { ...s, version: e.streamVersion };
}

/** Binds an unbound project to the org; the same org again changes nothing; another org is a conflict naming `project_id`. */
export function decideProjectBinding(cmd: { project_id: string; org_id: string }, s: ProjectState): ProjectEvent[] {
  if (s.orgId === undefined) return [{ type: PROJECT_REGISTERED, data: { project_id: cmd.project_id, org_id: cmd.org_id } }];
  if (s.orgId === cmd.org_id) return [];
  throw ConflictError.of('project_id', 'belongs to another org');
}

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
