import { eventDecoder } from '@app/common';
import { ACCESS_GRANTED, ACCESS_REVOKED, AccessEvent } from './events';

const decodeAccess = eventDecoder<AccessEvent>([ACCESS_GRANTED, ACCESS_REVOKED]);

/** A project's members as its `project-access-{project}` stream tells them. */
export interface ProjectAccessState {
  version: number;
  members: ReadonlySet<string>;
}

export const initialProjectAccess = (): ProjectAccessState => ({ version: -1, members: new Set() });

export function evolveProjectAccess(s: ProjectAccessState, e: { type: string; data: unknown; streamVersion: number }): ProjectAccessState {
  const ev = decodeAccess(e);
  if (ev?.type === ACCESS_GRANTED) return { version: e.streamVersion, members: new Set([...s.members, ev.data.user_id]) };
  if (ev?.type === ACCESS_REVOKED)
    return { version: e.streamVersion, members: new Set([...s.members].filter((u) => u !== ev.data.user_id)) };
  return { ...s, version: e.streamVersion };
}

export type AccessCommand = { type: 'grant' | 'revoke'; project_id: string; user_id: string };

/** Granting a member or revoking a non-member changes nothing (the platform may repeat itself). */
export function decideAccess(cmd: AccessCommand, s: ProjectAccessState): AccessEvent[] {
  const data = { project_id: cmd.project_id, user_id: cmd.user_id };
  const member = s.members.has(cmd.user_id);
  if (cmd.type === 'grant') return member ? [] : [{ type: ACCESS_GRANTED, data }];
  return member ? [{ type: ACCESS_REVOKED, data }] : [];
}
