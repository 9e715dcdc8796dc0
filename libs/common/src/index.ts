export * from './errors';
export { parseInput, fieldPath } from './validation';
export * from './allow-lists';
export { writeCandidate, commitCandidate, writeFileAtomic } from './atomic-file';
