export { QUEUE_NAME, JOB_NAMES, JOB_HANDLERS } from './jobs';
export type { JobName, JobPayloads, JobHandler } from './jobs';
export { JobDispatcher } from './dispatcher';
export { PingHandler } from './ping.handler';
