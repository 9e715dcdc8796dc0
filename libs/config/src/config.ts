import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { parseCidr } from '@app/common';
import { envSchema } from './config.schema';
import { CertificatesConfig, certificatesConfig } from './certificates-config';

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  dataDir: string;
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    batchMaxEvents: number;
    trustProxy: boolean;
    /** Slow-client cut-offs (0 for connectionTimeoutMs: no idle cut-off, SSE streams stay open). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    connectionTimeoutMs: number;
  };
  /** The built web dashboard (index.html and assets/), served at /dashboard/. */
  dashboardDir: string;
  database: {
    url: string;
    poolSize: number;
    createIfMissing: boolean;
    migrateOnStart: boolean;
    statementTimeoutMs: number;
    /** Longest wait for a pool connection (a free slot or a new connection) before the request fails with 503. */
    connectTimeoutMs: number;
  };
  redis: { url: string; prefix: string };
  worker: { httpPort: number; concurrency: number };
  append: { maxBatchEvents: number; maxInFlight: number };
  /** Requests per token subject per window, shared across processes; 0 turns the limit off. */
  rateLimit: { max: number; windowMs: number };
  /** Budgets per endpoint kind (libs/http rate-limit): `events` is rateLimit above. */
  rateLimits: Record<'write' | 'token' | 'anonymous', { max: number; windowMs: number }>;
  /** Sign-in throttle per account and per source (libs/sso sign-in-throttle). */
  signIn: { maxFailuresAccount: number; maxFailuresSource: number; lockBaseMs: number; lockMaxMs: number; forgetMs: number };
  jwt: {
    issuer: string;
    audience: string;
    /** Legacy HS256 secrets, kid -> base64 (read only while acceptHs256: the migration window). */
    keysJson?: string;
    /** The kid that signs, among privateJwks. */
    activeKid?: string;
    /** Raw JSON of the ES256 signing keys (processes that issue tokens only). */
    privateJwks?: string;
    /** Raw JSON of the ES256 verification keys (public; old kids carry retire_at). */
    publicJwks?: string;
    acceptHs256: boolean;
    clockToleranceS: number;
    containerTokenTtlS: number;
  };
  platformDomain: string;
  /** KEK ring that seals private keys at rest (libs/secrets); undefined outside production: a development KEK in dataDir. */
  keyEncryption: { keysJson?: string; activeId?: string };
  projections: {
    enabled: boolean;
    pollMs: number;
    batchSize: number;
    batchWindowMs: number;
    leaseMs: number;
    /** /health/ready fails when a projection trails the log by more seconds than this (0: not checked). */
    readyMaxLagS: number;
  };
  health: {
    watchdogIntervalMs: number;
    staleAfterIntervals: number;
    offlineGraceMs: number;
    sweepEveryMs: number;
    outageMinContainers: number;
    lapsesPerS: number;
    historyBucketS: number;
    historyRetentionH: number;
    routesRestoreWatchdogs: number;
  };
  auth: { allowUnregisteredContainers: boolean; tokenVersionsResyncS: number };
  onboarding: {
    defaultNode: { nodeId: string; fqdn: string; vpnEndpoint: string };
    /** image id -> docker image reference */
    images: Record<string, string>;
  };
  vpn: {
    poolCidr: string;
    proto: 'udp' | 'tcp-client';
    clientCertDays: number;
    clientCertRenewDays: number;
    configRenderWaitMs: number;
    addressQuarantineS: number;
    filesDir: string;
    renderReconcileS: number;
  };
  nginx: NginxConfig;
  certificates: CertificatesConfig;
  audit: {
    /** PKCS#8 PEM of the Ed25519 checkpoint key, or undefined (development key in dataDir). */
    signingKeyPem?: string;
    sealEnabled: boolean;
    sealBatchSize: number;
    checkpointEvery: number;
    checkpointIntervalS: number;
    partitionAheadDays: number;
    watchdogRetentionDays: number;
    maintenanceEveryS: number;
  };
  sso: {
    enabled: boolean;
    issuer: string;
    jwksJson?: string;
    serviceScheme: 'https' | 'http';
    servicePort?: number;
    sessionTtlS: number;
    checkCacheMs: number;
    /** Users (ids or emails, lower-cased) who sign in to the dashboard as operators; everyone else as a viewer. */
    dashboardOperators: string[];
    dashboardTokenTtlS: number;
  };
}

/** The platform's images (seeds): image id -> docker image reference. */
export const DEFAULT_CONTAINER_IMAGES: Record<string, string> = {
  'ubuntu:terminal': 'demiurge/ubuntu-terminal:24.04',
  'jupyter:minimal': 'public.ecr.aws/f3g9x7j4/demiurge-jmn:lab-4.2.0',
  'jupyter:pytorch': 'public.ecr.aws/f3g9x7j4/demiurge-jpn:lab-4.2.0',
  'pgadmin:4': 'dpage/pgadmin4:8.12.0',
  'n8n:1': 'docker.n8n.io/n8nio/n8n:1.97.1',
};
const IMAGE_ID = /^[a-z0-9][a-z0-9._-]{0,62}(:[a-z0-9][a-z0-9._-]{0,62})?$/;
const IMAGE_REF = /^[a-z0-9][a-z0-9./_:-]{0,254}$/;
const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `host:port`: a lower-case DNS name or IPv4 address, and a port 1-65535 (it is written into VPN profiles). */
export function isVpnEndpoint(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const i = v.lastIndexOf(':');
  const port = v.slice(i + 1);
  return i > 0 && HOST.test(v.slice(0, i)) && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

function parseImages(json: string | undefined, problems: { variable: string; message: string }[]): Record<string, string> {
  if (!json) return DEFAULT_CONTAINER_IMAGES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push({ variable: 'CONTAINER_IMAGES', message: 'must be a JSON object {"<image id>": "<docker image>"}' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [id, ref] of Object.entries(parsed as Record<string, unknown>)) {
    if (!IMAGE_ID.test(id)) problems.push({ variable: 'CONTAINER_IMAGES', message: `image id "${id}" must match ${IMAGE_ID}` });
    else if (typeof ref !== 'string' || !IMAGE_REF.test(ref))
      problems.push({ variable: 'CONTAINER_IMAGES', message: `image of "${id}" must match ${IMAGE_REF}` });
    else out[id] = ref;
  }
  return out;
}

/** SSO_JWKS: {"keys":[...]} of private RSA JWKs (the provider signs RS256 only). */
export function jwksProblem(json: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return 'must be JSON {"keys":[<private RSA JWK>, ...]}';
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'must be JSON {"keys":[<private RSA JWK>, ...]}';
  const ok = keys.every(
    (k) =>
      k && typeof k === 'object' && (k as Record<string, unknown>).kty === 'RSA' && typeof (k as Record<string, unknown>).d === 'string',
  );
  return ok ? null : 'every key must be a private RSA JWK (kty "RSA" with "d")';
}

/** "a.b.c.d/len" with 8 <= len <= 30 and no host bits set. */
export function cidrProblem(v: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) return 'must be an IPv4 CIDR like 172.16.0.0/16';
  const len = Number(m[5]);
  if (len < 8 || len > 30) return 'prefix length must be 8 to 30';
  const n = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  if (n % 2 ** (32 - len) !== 0) return 'must be the network address (no host bits set)';
  return null;
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
  /** Live routes: the route channel's unix socket, or null (reload on every change). */
  liveSocket: string | null;
  liveCheckMs: number;
}

/** The nginx settings; problems go into the caller's list so every bad variable is named at once. */
function nginxConfig(e: z.infer<typeof envSchema>, problems: { variable: string; message: string }[]): NginxConfig {
  const vpnRanges = e.NGINX_VPN_RANGES.split(',');
  for (const r of vpnRanges) {
    try {
      parseCidr(r);
    } catch {
      problems.push({ variable: 'NGINX_VPN_RANGES', message: `${r} is not an IPv4 CIDR` });
    }
  }
  // One node id across onboarding (placement) and nginx (which rows this node serves).
  const nodeId = e.NGINX_NODE_ID ?? e.GATEWAY_DEFAULT_NODE_ID;
  const defaultGatewayNode = e.NGINX_DEFAULT_GATEWAY_NODE ?? e.GATEWAY_DEFAULT_NODE_ID;
  const gatewayNodes = (e.NGINX_GATEWAY_NODES ?? `${defaultGatewayNode}=nginx:8080`).split(',').map((p) => {
    const [id, address] = p.split('=');
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) problems.push({ variable: 'NGINX_GATEWAY_NODES', message: `${p}: port out of range` });
    return { id, address };
  });
  if (e.NGINX_COALESCE_MAX_MS < e.NGINX_COALESCE_MIN_MS) {
    problems.push({ variable: 'NGINX_COALESCE_MAX_MS', message: 'must be at least NGINX_COALESCE_MIN_MS' });
  }
  const reload = e.NGINX_RELOAD_CMD?.trim();
  return {
    enabled: e.NGINX_RENDER_ENABLED,
    nodeId,
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
    defaultGatewayNode,
    gatewayNodes,
    liveSocket: e.NGINX_ROUTES_SOCKET?.trim() || null,
    liveCheckMs: e.NGINX_LIVE_CHECK_MS,
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
    throw new ConfigError(parsed.error.issues.map((i: z.core.$ZodIssue) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  const staleMs = e.HEALTH_WATCHDOG_INTERVAL_MS * e.HEALTH_STALE_AFTER_INTERVALS;
  if (e.HEALTH_OFFLINE_GRACE_MS <= staleMs) {
    problems.push({ variable: 'HEALTH_OFFLINE_GRACE_MS', message: `must be longer than the stale threshold (${staleMs} ms)` });
  }
  if (e.NODE_ENV === 'production' && e.AUTH_ALLOW_UNREGISTERED_CONTAINERS) {
    problems.push({ variable: 'AUTH_ALLOW_UNREGISTERED_CONTAINERS', message: 'must be false in production' });
  }
  if (e.VPN_CLIENT_CERT_RENEW_DAYS >= e.VPN_CLIENT_CERT_DAYS) {
    problems.push({
      variable: 'VPN_CLIENT_CERT_RENEW_DAYS',
      message: `must be less than VPN_CLIENT_CERT_DAYS (${e.VPN_CLIENT_CERT_DAYS})`,
    });
  }
  const cidr = cidrProblem(e.VPN_POOL_CIDR);
  if (cidr) problems.push({ variable: 'VPN_POOL_CIDR', message: cidr });
  if (!isVpnEndpoint(e.GATEWAY_DEFAULT_VPN_ENDPOINT)) {
    problems.push({ variable: 'GATEWAY_DEFAULT_VPN_ENDPOINT', message: 'must be host:port (lower-case DNS name or IPv4, port 1-65535)' });
  }
  if (e.AUDIT_SIGNING_KEY && !isEd25519Pem(e.AUDIT_SIGNING_KEY)) {
    problems.push({ variable: 'AUDIT_SIGNING_KEY', message: 'must be an Ed25519 private key in PKCS#8 PEM' });
  }
  const images = parseImages(e.CONTAINER_IMAGES, problems);
  const nginx = nginxConfig(e, problems);
  const certificates = certificatesConfig(e, problems);
  if (e.SSO_JWKS) {
    const problem = jwksProblem(e.SSO_JWKS);
    if (problem) problems.push({ variable: 'SSO_JWKS', message: problem });
  }
  if (e.NODE_ENV === 'production' && e.SSO_ENABLED && !e.SSO_ISSUER)
    problems.push({ variable: 'SSO_ISSUER', message: 'is required in production (or SSO_ENABLED=false)' });
  if (problems.length) throw new ConfigError(problems);
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
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS,
      connectionTimeoutMs: e.HTTP_CONNECTION_TIMEOUT_MS,
    },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      createIfMissing: e.DATABASE_CREATE_IF_MISSING ?? e.NODE_ENV !== 'production',
      migrateOnStart: e.DATABASE_MIGRATE_ON_START,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    },
    dashboardDir: e.DASHBOARD_DIR,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    worker: { httpPort: e.WORKER_HTTP_PORT, concurrency: e.WORKER_CONCURRENCY },
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
    rateLimits: {
      write: { max: e.RATE_LIMIT_WRITE_MAX, windowMs: e.RATE_LIMIT_WRITE_WINDOW_MS },
      token: { max: e.RATE_LIMIT_TOKEN_MAX, windowMs: e.RATE_LIMIT_TOKEN_WINDOW_MS },
      anonymous: { max: e.RATE_LIMIT_ANON_MAX, windowMs: e.RATE_LIMIT_ANON_WINDOW_MS },
    },
    signIn: {
      maxFailuresAccount: e.SIGNIN_MAX_FAILURES_ACCOUNT,
      maxFailuresSource: e.SIGNIN_MAX_FAILURES_SOURCE,
      lockBaseMs: e.SIGNIN_LOCK_BASE_MS,
      lockMaxMs: e.SIGNIN_LOCK_MAX_MS,
      forgetMs: e.SIGNIN_FORGET_MS,
    },
    append: { maxBatchEvents: e.APPEND_MAX_BATCH_EVENTS, maxInFlight: e.APPEND_MAX_IN_FLIGHT },
    jwt: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      keysJson: e.JWT_KEYS,
      activeKid: e.JWT_ACTIVE_KID,
      privateJwks: e.JWT_PRIVATE_JWKS,
      publicJwks: e.JWT_PUBLIC_JWKS,
      acceptHs256: e.JWT_ACCEPT_HS256,
      clockToleranceS: e.JWT_CLOCK_TOLERANCE_S,
      containerTokenTtlS: e.CONTAINER_TOKEN_TTL_S,
    },
    platformDomain: e.PLATFORM_DOMAIN,
    keyEncryption: { keysJson: e.KEY_ENCRYPTION_KEYS, activeId: e.KEY_ENCRYPTION_ACTIVE_ID },
    sso: {
      enabled: e.SSO_ENABLED,
      issuer: e.SSO_ISSUER ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}/oidc`,
      jwksJson: e.SSO_JWKS,
      serviceScheme: e.SSO_SERVICE_SCHEME,
      servicePort: e.SSO_SERVICE_PORT,
      sessionTtlS: e.SSO_SESSION_TTL_S,
      checkCacheMs: e.SSO_CHECK_CACHE_MS,
      dashboardOperators: (e.DASHBOARD_OPERATORS ?? '')
        .split(',')
        .filter(Boolean)
        .map((v) => v.toLowerCase()),
      dashboardTokenTtlS: e.DASHBOARD_TOKEN_TTL_S,
    },
    auth: { allowUnregisteredContainers: e.AUTH_ALLOW_UNREGISTERED_CONTAINERS, tokenVersionsResyncS: e.TOKEN_VERSIONS_RESYNC_S },
    onboarding: {
      defaultNode: { nodeId: e.GATEWAY_DEFAULT_NODE_ID, fqdn: e.GATEWAY_DEFAULT_FQDN, vpnEndpoint: e.GATEWAY_DEFAULT_VPN_ENDPOINT },
      images,
    },
    vpn: {
      poolCidr: e.VPN_POOL_CIDR,
      proto: e.VPN_PROTO,
      clientCertDays: e.VPN_CLIENT_CERT_DAYS,
      clientCertRenewDays: e.VPN_CLIENT_CERT_RENEW_DAYS,
      configRenderWaitMs: e.VPN_CONFIG_RENDER_WAIT_MS,
      addressQuarantineS: e.VPN_ADDRESS_QUARANTINE_S,
      filesDir: e.VPN_FILES_DIR ?? `${e.DATA_DIR}/openvpn`,
      renderReconcileS: e.VPN_RENDER_RECONCILE_S,
    },
    projections: {
      enabled: e.PROJECTIONS_ENABLED,
      pollMs: e.PROJECTION_POLL_MS,
      batchSize: e.PROJECTION_BATCH_SIZE,
      batchWindowMs: e.PROJECTION_BATCH_WINDOW_MS,
      leaseMs: e.PROJECTION_LEASE_MS,
      readyMaxLagS: e.READINESS_MAX_PROJECTION_LAG_S,
    },
    health: {
      watchdogIntervalMs: e.HEALTH_WATCHDOG_INTERVAL_MS,
      staleAfterIntervals: e.HEALTH_STALE_AFTER_INTERVALS,
      offlineGraceMs: e.HEALTH_OFFLINE_GRACE_MS,
      sweepEveryMs: e.HEALTH_SWEEP_EVERY_MS,
      outageMinContainers: e.HEALTH_OUTAGE_MIN_CONTAINERS,
      lapsesPerS: e.HEALTH_LAPSES_PER_S,
      historyBucketS: e.HEALTH_HISTORY_BUCKET_S,
      historyRetentionH: e.HEALTH_HISTORY_RETENTION_H,
      routesRestoreWatchdogs: e.ROUTES_RESTORE_WATCHDOGS,
    },
    nginx,
    certificates,
    audit: {
      signingKeyPem: e.AUDIT_SIGNING_KEY,
      sealEnabled: e.AUDIT_SEAL_ENABLED,
      sealBatchSize: e.AUDIT_SEAL_BATCH_SIZE,
      checkpointEvery: e.AUDIT_CHECKPOINT_EVERY,
      checkpointIntervalS: e.AUDIT_CHECKPOINT_INTERVAL_S,
      partitionAheadDays: e.AUDIT_PARTITION_AHEAD_DAYS,
      watchdogRetentionDays: e.AUDIT_WATCHDOG_RETENTION_DAYS,
      maintenanceEveryS: e.AUDIT_MAINTENANCE_EVERY_S,
    },
  };
}

function isEd25519Pem(pem: string): boolean {
  try {
    return createPrivateKey(pem.replace(/\\n/g, '\n')).asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}
