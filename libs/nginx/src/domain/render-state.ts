/** One row of nginx_render_state as GET /nginx/renders shows it (apps/dashboard/src/types.ts declares the same shape). */
export interface RenderState {
  node: string;
  stage: string;
  last_attempt_at: string;
  last_outcome: 'swapped' | 'unchanged' | 'failed';
  last_success_at: string | null;
  duration_ms: number;
  routes?: number;
  skipped_rows?: number;
  config_hash?: string | null;
  skipped_sample?: { fqdn: string; reason: string }[];
  failed_stage?: string | null;
  last_error?: string | null;
}

const OPERATOR_ONLY = ['routes', 'skipped_rows', 'config_hash', 'skipped_sample', 'failed_stage', 'last_error'] as const;

/**
 * What a role may see of a render. A node serves every org: its route counts, skipped sample and
 * error speak of other orgs' routes, so viewers get the outcome and the times only.
 */
export function renderStateFor(role: string, row: RenderState): RenderState {
  if (role === 'operator') return row;
  const out = { ...row };
  for (const k of OPERATOR_ONLY) delete out[k];
  return out;
}
