import type { Role } from '@app/auth';

/** One row of nginx_render_state as the API shows it. */
export interface RenderState {
  node: string;
  stage: string;
  last_attempt_at: string;
  last_outcome: 'swapped' | 'unchanged' | 'failed';
  last_success_at: string | null;
  routes: number;
  skipped_rows: number;
  duration_ms: number;
  config_hash?: string | null;
  skipped_sample?: { fqdn: string; reason: string }[];
  failed_stage?: string | null;
  last_error?: string | null;
}

const OPERATOR_ONLY = ['config_hash', 'skipped_sample', 'failed_stage', 'last_error'] as const;

/**
 * What a role may see of a render: the skipped sample and the error name other orgs' FQDNs, so
 * viewers get the outcome and the counts only.
 */
export function renderStateFor(role: Role, row: RenderState): RenderState {
  if (role === 'operator') return row;
  const out = { ...row };
  for (const k of OPERATOR_ONLY) delete out[k];
  return out;
}
