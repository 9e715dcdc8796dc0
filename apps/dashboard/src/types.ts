import type { Status } from './format';

/** One row of GET /nginx/renders (libs/nginx's RenderState, as the page uses it). */
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

/** The read API's shapes, as far as the page uses them (libs/health, libs/routing, libs/nginx). */
export interface Stats {
  cpu?: { load1: number | null; load5: number | null; count: number | null };
  memory?: { usedRatio: number | null; totalMb: number | null };
  disk?: { usedRatio: number | null; sizeBytes: number | null };
  network?: { pingMs: number | null };
}

export interface Readiness {
  name: string;
  healthy: boolean;
  message?: string;
}

export interface Container {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node: string | null;
  display_name: string | null;
  status: Status;
  deleted: boolean;
  last_watchdog_at: string | null;
  status_since: string;
  stats: Stats | null;
  services: Readiness[];
}

export interface Route {
  fqdn: string;
  container_id: string;
  org_id: string;
  project_id: string;
  service: string;
  port: number;
  is_primary: boolean;
  active: boolean;
  gateway_node: string | null;
  updated_at: string;
}

export interface ContainerDetail extends Omit<Container, 'services'> {
  services: { name: string; port: number | null; mapped: boolean; healthy: boolean | null; message: string | null; fqdn: string | null }[];
  readiness: Readiness[];
  routes: Route[];
}

export interface Summary {
  counts: Record<Status, number>;
  total: number;
}

export interface HealthChange {
  container_id: string;
  org_id: string;
  project_id: string;
  from: Status | null;
  to: Status;
  at: string;
  position: string;
}

export interface Sample {
  bucket: string;
  samples: number;
  load1: number | null;
  mem_used_ratio: number | null;
  disk_used_ratio: number | null;
  ping_ms: number | null;
}

export interface TimelineItem {
  position: string;
  recorded_at: string;
  type: string;
  actor: unknown;
  summary: string;
  data: Record<string, unknown>;
}

/** GET /routes/explain (libs/explain: ExplainFacts; the page must not import back-end code). */
export interface Explanation {
  host: string;
  code: string;
  verdict: string;
  chain: {
    parsed: { containerId: string; orgId: string; service?: string } | null;
    container: { org_id: string; project_id: string; status: string; status_since: string; deleted: boolean } | null;
    services: string[];
    route: {
      fqdn: string;
      port: number;
      active: boolean;
      protected: boolean;
      vpn_address: string | null;
      gateway_node: string | null;
      updated_at: string;
    } | null;
    mapping: { position: string; recorded_at: string; actor: string | null; port: number } | null;
    projection: { position: string; behind_events: number } | null;
    render: { last_outcome: string; last_attempt_at: string; last_success_at: string | null; last_error: string | null } | null;
    access: { user_id: string; allowed: boolean } | null;
  };
}
