import type { Job } from 'bullmq';
import type { JobHandler, JobPayloads } from '@app/jobs';
import { DeltaResult, NginxRenderer, RenderResult } from './renderer';

/**
 * `nginx:render`: re-renders this node's map; a failed render fails the job so BullMQ retries it.
 * With rendering disabled a job queued before (by an earlier run) completes as `disabled`, untouched.
 */
export class NginxRenderHandler implements JobHandler<'nginx:render'> {
  readonly name = 'nginx:render' as const;

  constructor(
    readonly renderer: NginxRenderer,
    private readonly nodeId: string,
    private readonly enabled = true,
  ) {}

  async handle(
    job: Job<JobPayloads['nginx:render']>,
  ): Promise<(Omit<RenderResult, 'skipped'> & { skipped: number }) | DeltaResult | { outcome: 'disabled' }> {
    if (!this.enabled) return { outcome: 'disabled' };
    if (job.data.node !== this.nodeId) throw new Error(`render job for node ${job.data.node} reached node ${this.nodeId}`);
    // A retried delta renders in full: whatever failed, the snapshot converges.
    if (job.data.delta && this.renderer.live && job.attemptsMade === 0) {
      const delta = await this.renderer.applyPending();
      if (delta.outcome === 'failed') throw new Error(`nginx live routes failed: ${delta.error}`);
      return delta;
    }
    const result = await this.renderer.render();
    if (result.outcome === 'failed') throw new Error(`nginx render failed at ${result.failedStage}: ${result.error}`);
    return { ...result, skipped: result.skipped.length };
  }
}
