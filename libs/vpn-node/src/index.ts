export { VpnNodeSupervisor } from './supervisor';
export type { VpnNodeReport } from './supervisor';
export { ManagementClient, parseSessions } from './management';
export { renderRuleset, rulesetProblems, expectedChains, NFT_TABLE, NFT_FAMILY } from './nft';
export { parseClients, sessionsToKill, REQUIRED_FILES } from './node-files';
