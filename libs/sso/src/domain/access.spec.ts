import { decideAccess, evolveProjectAccess, initialProjectAccess } from './access';
import { ACCESS_GRANTED, ACCESS_REVOKED } from './events';

const P = 'p';
const fold = (...types: string[]) =>
  types.reduce(
    (s, type, i) => evolveProjectAccess(s, { type, data: { project_id: P, user_id: 'u' }, streamVersion: i }),
    initialProjectAccess(),
  );

describe('project access decider', () => {
  it('grants a non-member, and granting again changes nothing', () => {
    expect(decideAccess({ type: 'grant', project_id: P, user_id: 'u' }, fold())).toEqual([
      { type: ACCESS_GRANTED, data: { project_id: P, user_id: 'u' } },
    ]);
    expect(decideAccess({ type: 'grant', project_id: P, user_id: 'u' }, fold(ACCESS_GRANTED))).toEqual([]);
  });
  it('revokes a member, and revoking a non-member changes nothing', () => {
    expect(decideAccess({ type: 'revoke', project_id: P, user_id: 'u' }, fold(ACCESS_GRANTED))).toEqual([
      { type: ACCESS_REVOKED, data: { project_id: P, user_id: 'u' } },
    ]);
    expect(decideAccess({ type: 'revoke', project_id: P, user_id: 'u' }, fold(ACCESS_GRANTED, ACCESS_REVOKED))).toEqual([]);
    expect(fold(ACCESS_GRANTED, ACCESS_REVOKED, 'other')).toMatchObject({ version: 2 });
  });
});
