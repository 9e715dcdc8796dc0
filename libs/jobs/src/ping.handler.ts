import type { Job } from 'bullmq';
import type { JobHandler, JobPayloads } from './jobs';

export class PingHandler implements JobHandler<'system:ping'> {
  readonly name = 'system:ping' as const;

  async handle(job: Job<JobPayloads['system:ping']>): Promise<{ sentAt: string; ranAt: string }> {
    return { sentAt: job.data.sentAt, ranAt: new Date().toISOString() };
  }
}
