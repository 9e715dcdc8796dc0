import type { Job } from 'bullmq';

/** The one BullMQ queue the gateway and worker share (under REDIS_PREFIX). */
export const QUEUE_NAME = 'collab';

/**
 * Every job the worker runs, by name, with its payload. Each name has exactly one handler,
 * checked when the worker starts (see JobDispatcher). Later features add their jobs here.
 */
export interface JobPayloads {
  /** Proves the queue end to end: the worker answers with the time it ran. */
  'system:ping': { sentAt: string };
  /** Re-render every gateway node's OpenVPN ccd files and the CRL from the read model (libs/onboarding). */
  'vpn:render-client-files': { reason: string };
  /** Appends health lapses for silent containers (libs/health); repeated every HEALTH_SWEEP_EVERY_MS. */
  'health:sweep': Record<string, never>;
  /**
   * Re-render one node's nginx map from the routes table (libs/nginx); coalesced per node.
   * `delta`: live routes, push only the containers queued since the last delta.
   */
  'nginx:render': { node: string; reason: string; delta?: boolean };
  /** Obtain or renew one subject's certificate if due, then install into Stage 1 (libs/certificates); one per subject. */
  'certificates:ensure': { subject: string; reason: string; force?: boolean };
  /** Every subject (gateway, each org) checked and Stage 1 re-installed; repeated every CERTS_RECONCILE_S. */
  'certificates:reconcile': { reason: string };
}

export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = [
  'system:ping',
  'vpn:render-client-files',
  'health:sweep',
  'nginx:render',
  'certificates:ensure',
  'certificates:reconcile',
];

export interface JobHandler<N extends JobName = JobName> {
  readonly name: N;
  handle(job: Job<JobPayloads[N]>): Promise<unknown>;
}

/** Multi-provider token: every module that owns a job provides its handler under it. */
export const JOB_HANDLERS = Symbol('JOB_HANDLERS');
