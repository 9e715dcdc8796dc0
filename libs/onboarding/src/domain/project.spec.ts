import { ConflictError } from '@app/common';
import { decideProjectBinding, evolveProject, initialProject, PROJECT_REGISTERED } from './project';

describe('project binding', () => {
  const project = '22222222-2222-4222-8222-222222222222';
  const orgA = '11111111-1111-4111-8111-111111111111';
  const orgB = '33333333-3333-4333-8333-333333333333';

  it('the first registration binds the project to its org', () => {
    expect(decideProjectBinding({ project_id: project, org_id: orgA }, initialProject())).toEqual([
      { type: PROJECT_REGISTERED, data: { project_id: project, org_id: orgA } },
    ]);
  });

  it('the same org again changes nothing; another org is a conflict naming project_id', () => {
    const bound = evolveProject(initialProject(), {
      type: PROJECT_REGISTERED,
      data: { project_id: project, org_id: orgA },
      streamVersion: 0,
    });
    expect(decideProjectBinding({ project_id: project, org_id: orgA }, bound)).toEqual([]);
    expect(() => decideProjectBinding({ project_id: project, org_id: orgB }, bound)).toThrow(ConflictError);
    try {
      decideProjectBinding({ project_id: project, org_id: orgB }, bound);
    } catch (err) {
      expect((err as ConflictError).field).toBe('project_id');
    }
  });
});
