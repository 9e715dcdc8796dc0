import type { Job } from 'bullmq';
import { JOB_NAMES, JobHandler, JobName } from './jobs';

/** Routes a job to the single handler of its name; refuses to start with a missing or doubled one. */
export class JobDispatcher {
  private readonly handlers = new Map<string, JobHandler>();

  constructor(handlers: JobHandler[]) {
    for (const h of handlers) {
      if (this.handlers.has(h.name)) throw new Error(`job ${h.name} has two handlers`);
      this.handlers.set(h.name, h);
    }
    const missing = JOB_NAMES.filter((n) => !this.handlers.has(n));
    if (missing.length) throw new Error(`jobs without a handler: ${missing.join(', ')}`);
    const unknown = [...this.handlers.keys()].filter((n) => !JOB_NAMES.includes(n as JobName));
    if (unknown.length) throw new Error(`handlers for unknown jobs: ${unknown.join(', ')}`);
  }

  dispatch(job: Job): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    return handler.handle(job as Job<never>);
  }
}
