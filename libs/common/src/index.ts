export * from './errors';
export { parseInput, fieldPath } from './validation';
export * from './allow-lists';
