import { renderStateFor, type RenderState } from './render-state';

const row: RenderState = {
  node: 'gw-1',
  stage: 'stage2',
  last_attempt_at: '2026-01-01T00:00:00.000Z',
  last_outcome: 'failed',
  last_success_at: null,
  routes: 3,
  skipped_rows: 1,
  duration_ms: 12,
  config_hash: 'abc',
  skipped_sample: [{ fqdn: 'uc-x--a.org-y.collab.test', reason: 'bad port' }],
  failed_stage: 'test',
  last_error: 'nginx -t failed near uc-x--a.org-y.collab.test',
};

describe('render state by role', () => {
  it('operators see everything', () => {
    expect(renderStateFor('operator', row)).toEqual(row);
  });

  it('viewers see the outcome and times, never counts, sample or error (they speak of other orgs)', () => {
    const v = renderStateFor('viewer', row);
    expect(v).toEqual({
      node: 'gw-1',
      stage: 'stage2',
      last_attempt_at: row.last_attempt_at,
      last_outcome: 'failed',
      last_success_at: null,
      duration_ms: 12,
    });
    expect(JSON.stringify(v)).not.toContain('uc-x');
  });
});
