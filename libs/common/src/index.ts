export * from './errors';
export { parseInput, fieldPath } from './validation';
export * from './allow-lists';
export { writeCandidate, commitCandidate, writeFileAtomic } from './atomic-file';
export { safeSwap, removeStaleCandidates, lastGoodPath, SwapError } from './safe-swap';
export type { SwapSteps, SwapOutcome } from './safe-swap';
export { ipv4ToInt, intToIpv4, parseCidr, inRanges } from './ipv4';
export type { Cidr } from './ipv4';
export type { Stored } from './stored';
