export { toProblem } from './problem';
export type { Problem } from './problem';
export { ProblemFilter, sendProblem } from './problem.filter';
export { createFastifyAdapter, configureFastify } from './fastify';
export type { HttpOptions } from './fastify';
export { RateLimitGuard, RateLimitedError } from './rate-limit';
export { serveStaticSite, STATIC_SITE_CSP } from './static-site';
export { createProcess } from './bootstrap';
export type { ProcessSpec } from './bootstrap';
