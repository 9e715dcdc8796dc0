import { z } from 'zod';
import { ConfigError, cidrProblem } from './config';

/**
 * The settings of the VPN node supervisor (apps/vpn-node), which runs beside OpenVPN on a gateway
 * node with no database of its own: it reads the files the worker renders. Parsed once at start.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const schema = z.object({
  VPN_NODE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a node id (lower-case letters, digits, dashes)')
    .optional(),
  GATEWAY_DEFAULT_NODE_ID: z.string().default('default'),
  DATA_DIR: z.string().min(1).default('.data'),
  VPN_FILES_DIR: z.string().min(1).optional(),
  VPN_POOL_CIDR: z.string().default('172.16.0.0/16'),
  /** Where the supervisor keeps the management socket (writable; the files dir may be read-only). */
  VPN_RUN_DIR: z.string().min(1).optional(),
  VPN_OPENVPN_BIN: z.string().min(1).default('openvpn'),
  VPN_NFT_BIN: z.string().min(1).default('nft'),
  /** How often the nftables isolation rules are checked (and repaired on the next check). */
  VPN_NFT_CHECK_MS: int(100, 600_000).default(5_000),
  /** How often the rendered files are read for revoked or deleted clients and a changed server.conf. */
  VPN_WATCH_MS: int(100, 60_000).default(1_000),
  VPN_NODE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  VPN_NODE_HTTP_PORT: int(0, 65535).default(3002),
});

export interface VpnNodeConfig {
  nodeId: string;
  nodeDir: string;
  poolCidr: string;
  runDir: string;
  openvpnBin: string;
  nftBin: string;
  nftCheckMs: number;
  watchMs: number;
  http: { host: string; port: number };
}

export function loadVpnNodeConfig(env: NodeJS.ProcessEnv = process.env): VpnNodeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })));
  const e = parsed.data;
  const cidr = cidrProblem(e.VPN_POOL_CIDR);
  if (cidr) throw new ConfigError([{ variable: 'VPN_POOL_CIDR', message: cidr }]);
  const nodeId = e.VPN_NODE_ID ?? e.GATEWAY_DEFAULT_NODE_ID;
  const filesDir = e.VPN_FILES_DIR ?? `${e.DATA_DIR}/openvpn`;
  return {
    nodeId,
    nodeDir: `${filesDir.replace(/\/$/, '')}/${nodeId}`,
    poolCidr: e.VPN_POOL_CIDR,
    runDir: e.VPN_RUN_DIR ?? `${e.DATA_DIR}/openvpn-run/${nodeId}`,
    openvpnBin: e.VPN_OPENVPN_BIN,
    nftBin: e.VPN_NFT_BIN,
    nftCheckMs: e.VPN_NFT_CHECK_MS,
    watchMs: e.VPN_WATCH_MS,
    http: { host: e.VPN_NODE_HTTP_HOST, port: e.VPN_NODE_HTTP_PORT },
  };
}
