import { z } from 'zod';
import { envSchema } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  dataDir: string;
  http: { host: string; port: number; bodyLimitBytes: number; batchMaxEvents: number; trustProxy: boolean };
  database: {
    url: string;
    poolSize: number;
    createIfMissing: boolean;
    migrateOnStart: boolean;
    statementTimeoutMs: number;
  };
  redis: { url: string; prefix: string };
  worker: { httpPort: number; concurrency: number };
  append: { maxBatchEvents: number; maxInFlight: number };
  jwt: {
    issuer: string;
    audience: string;
    /** Raw JSON of kid -> base64 secret, or undefined (development keys from dataDir). */
    keysJson?: string;
    activeKid?: string;
    clockToleranceS: number;
    containerTokenTtlS: number;
  };
  platformDomain: string;
  nginx: NginxConfig;
}

export interface NginxConfig {
  enabled: boolean;
  nodeId: string;
  stage: 'stage1' | 'stage2';
  bin: string;
  prefix: string;
  conf: string;
  mapPath: string;
  reloadCmd: string[];
  statusUrl: string;
  commandTimeoutMs: number;
  confirmTimeoutMs: number;
  coalesceMinMs: number;
  coalesceMaxMs: number;
  reconcileIntervalMs: number;
  vpnRanges: string[];
  defaultGatewayNode: string;
  gatewayNodes: { id: string; address: string }[];
}

function nginxConfig(e: z.infer<typeof envSchema>): NginxConfig {
  const problems: { variable: string; message: string }[] = [];
  const vpnRanges = e.NGINX_VPN_RANGES.split(',');
  for (const r of vpnRanges) {
    const [ip, bits] = r.split('/');
    if (ip.split('.').some((o) => Number(o) > 255) || Number(bits) > 32) problems.push({ variable: 'NGINX_VPN_RANGES', message: `${r} is not an IPv4 CIDR` });
  }
  const gatewayNodes = e.NGINX_GATEWAY_NODES.split(',').map((p) => {
    const [id, address] = p.split('=');
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) problems.push({ variable: 'NGINX_GATEWAY_NODES', message: `${p}: port out of range` });
    return { id, address };
  });
  if (e.NGINX_COALESCE_MAX_MS < e.NGINX_COALESCE_MIN_MS) {
    problems.push({ variable: 'NGINX_COALESCE_MAX_MS', message: 'must be at least NGINX_COALESCE_MIN_MS' });
  }
  if (problems.length) throw new ConfigError(problems);
  const reload = e.NGINX_RELOAD_CMD?.trim();
  return {
    enabled: e.NGINX_RENDER_ENABLED,
    nodeId: e.NGINX_NODE_ID,
    stage: e.NGINX_STAGE,
    bin: e.NGINX_BIN,
    prefix: e.NGINX_PREFIX,
    conf: e.NGINX_CONF,
    mapPath: e.NGINX_MAP_PATH,
    reloadCmd: reload ? reload.split(/\s+/) : [e.NGINX_BIN, '-p', e.NGINX_PREFIX, '-c', e.NGINX_CONF, '-s', 'reload'],
    statusUrl: e.NGINX_STATUS_URL,
    commandTimeoutMs: e.NGINX_COMMAND_TIMEOUT_MS,
    confirmTimeoutMs: e.NGINX_CONFIRM_TIMEOUT_MS,
    coalesceMinMs: e.NGINX_COALESCE_MIN_MS,
    coalesceMaxMs: e.NGINX_COALESCE_MAX_MS,
    reconcileIntervalMs: e.NGINX_RECONCILE_INTERVAL_MS,
    vpnRanges,
    defaultGatewayNode: e.NGINX_DEFAULT_GATEWAY_NODE,
    gatewayNodes,
  };
}

/** Validates the environment once; a bad value throws a ConfigError naming each variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i: z.core.$ZodIssue) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
    );
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_KEYS) {
    throw new ConfigError([{ variable: 'JWT_KEYS', message: 'is required in production' }]);
  }
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      batchMaxEvents: e.HTTP_BATCH_MAX_EVENTS,
      trustProxy: e.HTTP_TRUST_PROXY,
    },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      createIfMissing: e.DATABASE_CREATE_IF_MISSING ?? e.NODE_ENV !== 'production',
      migrateOnStart: e.DATABASE_MIGRATE_ON_START,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    worker: { httpPort: e.WORKER_HTTP_PORT, concurrency: e.WORKER_CONCURRENCY },
    append: { maxBatchEvents: e.APPEND_MAX_BATCH_EVENTS, maxInFlight: e.APPEND_MAX_IN_FLIGHT },
    jwt: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      keysJson: e.JWT_KEYS,
      activeKid: e.JWT_ACTIVE_KID,
      clockToleranceS: e.JWT_CLOCK_TOLERANCE_S,
      containerTokenTtlS: e.CONTAINER_TOKEN_TTL_S,
    },
    platformDomain: e.PLATFORM_DOMAIN,
    nginx: nginxConfig(e),
  };
}
