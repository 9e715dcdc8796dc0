export { QUEUE_NAME, JOB_NAMES, JOB_HANDLERS } from './jobs';
export type { JobName, JobPayloads, JobHandler } from './jobs';
export { JobDispatcher } from './dispatcher';
export { PingHandler } from './ping.handler';
export { ROUTES_CHANGED } from './routes-changed';
export type { RoutesChangedListener } from './routes-changed';
