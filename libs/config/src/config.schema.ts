import { z } from 'zod';
import { bool, int, url } from './env-types';
import { certificatesEnvShape } from './certificates-config';

/**
 * Every setting the processes read, with its environment variable, default and bounds.
 * Parsed once at start (see loadConfig); nothing else reads process.env.
 */
const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a lower-case DNS name');

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),

  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: int(0, 65535).default(3000),
  HTTP_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  HTTP_BATCH_MAX_EVENTS: int(1, 1000).default(100),
  HTTP_TRUST_PROXY: bool.default(false),
  HTTP_HEADERS_TIMEOUT_MS: int(1_000, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
  HTTP_KEEPALIVE_TIMEOUT_MS: int(1_000, 600_000).default(72_000),
  HTTP_CONNECTION_TIMEOUT_MS: int(0, 3_600_000).default(0),
  DASHBOARD_DIR: z.string().min(1).default('dist/dashboard'),
  WORKER_HTTP_PORT: int(0, 65535).default(3001),
  WORKER_CONCURRENCY: int(1, 64).default(4),

  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/collab_gateway'),
  DATABASE_POOL_SIZE: int(2, 200).default(10),
  DATABASE_CREATE_IF_MISSING: bool.optional(),
  DATABASE_MIGRATE_ON_START: bool.default(true),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(15_000),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 60_000).default(5_000),

  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" and "-" only')
    .default('cgw'),

  RATE_LIMIT_MAX: int(0, 1_000_000).default(300),
  RATE_LIMIT_WINDOW_MS: int(1_000, 3_600_000).default(60_000),

  APPEND_MAX_BATCH_EVENTS: int(1, 10_000).default(512),
  APPEND_MAX_IN_FLIGHT: int(1, 16).default(2),

  JWT_ISSUER: z.string().min(1).default('collab-gateway'),
  JWT_AUDIENCE: z.string().min(1).default('collab-gateway'),
  /** JSON object {"<kid>": "<base64 secret>"}; absent outside production: a development key kept in DATA_DIR. */
  JWT_KEYS: z.string().optional(),
  JWT_ACTIVE_KID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  /** Token signing keys (issuers only): {"keys":[<private EC P-256 JWK with kid>]}; see libs/auth keys.ts. */
  JWT_PRIVATE_JWKS: z.string().optional(),
  /** Token verification keys: {"keys":[<public EC P-256 JWK with kid, optional retire_at>]}. */
  JWT_PUBLIC_JWKS: z.string().optional(),
  /** Migration window: also accept HS256 tokens signed with JWT_KEYS. Off by default. */
  JWT_ACCEPT_HS256: bool.default(false),
  /** Key-encryption keys that seal private keys in the database: {"<id>": "<base64 of 32 bytes>"}. */
  KEY_ENCRYPTION_KEYS: z.string().optional(),
  KEY_ENCRYPTION_ACTIVE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,32}$/)
    .optional(),
  JWT_CLOCK_TOLERANCE_S: int(0, 300).default(30),
  CONTAINER_TOKEN_TTL_S: int(60, 90 * 24 * 3600).default(7 * 24 * 3600),

  PLATFORM_DOMAIN: hostname.default('collab.localhost'),

  /** Accept container tokens of containers never onboarded (ops-minted); refused in production. */
  AUTH_ALLOW_UNREGISTERED_CONTAINERS: bool.default(false),
  /** Full reload of the in-memory container token versions, beside the NOTIFY feed (seconds). */
  TOKEN_VERSIONS_RESYNC_S: int(5, 3600).default(60),

  /** The node containers are placed on while no gateway node has been registered. */
  GATEWAY_DEFAULT_NODE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and "-"')
    .default('default'),
  GATEWAY_DEFAULT_FQDN: hostname.default('gateway.collab.localhost'),
  /** host:port of the default node's OpenVPN server. */
  GATEWAY_DEFAULT_VPN_ENDPOINT: z.string().default('gateway.collab.localhost:1194'),
  /** JSON {"<image id>": "<docker image reference>"}: the images a container may be registered with. */
  CONTAINER_IMAGES: z.string().optional(),

  /** Each gateway node's VPN address pool; .1 of it is the gateway itself. */
  VPN_POOL_CIDR: z.string().default('172.16.0.0/16'),
  VPN_PROTO: z.enum(['udp', 'tcp-client']).default('udp'),
  VPN_CLIENT_CERT_DAYS: int(1, 3650).default(365),
  /** A client certificate with fewer days than this left is re-issued at /collab/vpn-config. */
  VPN_CLIENT_CERT_RENEW_DAYS: int(0, 3649).default(30),
  /** A container's first /collab/vpn-config waits at most this long for the worker to render its ccd file. */
  VPN_CONFIG_RENDER_WAIT_MS: int(0, 30_000).default(3_000),
  /** A deleted container's VPN address is not given to another before this many seconds. */
  VPN_ADDRESS_QUARANTINE_S: int(0, 30 * 24 * 3600).default(3600),
  /** Where the worker writes each node's OpenVPN ccd/ files and the CRL; default DATA_DIR/openvpn. */
  VPN_FILES_DIR: z.string().min(1).optional(),
  VPN_RENDER_RECONCILE_S: int(5, 3600).default(60),

  /** Projections (libs/projections): whether this process runs the projectors, and how. */
  PROJECTIONS_ENABLED: bool.default(true),
  PROJECTION_POLL_MS: int(5, 60_000).default(50),
  PROJECTION_BATCH_SIZE: int(1, 10_000).default(1000),
  /** Under load, the least time between two reads of the log by one projector (ProjectorOptions.batchWindowMs). */
  PROJECTION_BATCH_WINDOW_MS: int(0, 1_000).default(20),
  PROJECTION_LEASE_MS: int(500, 600_000).default(10_000),
  READINESS_MAX_PROJECTION_LAG_S: int(0, 86_400).default(60),

  /** Health model (libs/health, docs/design.md "Health model"). */
  HEALTH_WATCHDOG_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  HEALTH_STALE_AFTER_INTERVALS: int(1, 100).default(2),
  HEALTH_OFFLINE_GRACE_MS: int(200, 7 * 24 * 3_600_000).default(5 * 60_000),
  HEALTH_SWEEP_EVERY_MS: int(100, 3_600_000).default(5_000),
  HEALTH_OUTAGE_MIN_CONTAINERS: int(1, 1_000_000).default(3),
  /** The most lapses the sweeper appends per second (a fleet that goes quiet at once is lapsed over a few sweeps). */
  HEALTH_LAPSES_PER_S: int(1, 100_000).default(1_000),
  HEALTH_HISTORY_BUCKET_S: int(1, 3600).default(60),
  HEALTH_HISTORY_RETENTION_H: int(1, 24 * 90).default(48),
  ROUTES_RESTORE_WATCHDOGS: int(1, 20).default(2),
  /** Audit log (libs/audit): hash chain sealer, signed checkpoints, partitions, watchdog retention. */
  /** Ed25519 private key (PKCS#8 PEM) that signs checkpoints; absent outside production: a development key in DATA_DIR. */
  AUDIT_SIGNING_KEY: z.string().optional(),
  AUDIT_SEAL_ENABLED: bool.default(true),
  AUDIT_SEAL_BATCH_SIZE: int(1, 100_000).default(5_000),
  AUDIT_CHECKPOINT_EVERY: int(1, 10_000_000).default(10_000),
  AUDIT_CHECKPOINT_INTERVAL_S: int(1, 86_400).default(60),
  AUDIT_PARTITION_AHEAD_DAYS: int(1, 365).default(7),
  /** Raw watchdogs older than this many days are compacted into per-container daily summaries; 0 keeps them. */
  AUDIT_WATCHDOG_RETENTION_DAYS: int(0, 36_500).default(30),
  AUDIT_MAINTENANCE_EVERY_S: int(10, 86_400).default(3_600),
  // nginx rendering (libs/nginx). Defaults suit the docker-compose nginx container sharing /etc/nginx.
  NGINX_RENDER_ENABLED: bool.default(true),
  /** This nginx's gateway node; default GATEWAY_DEFAULT_NODE_ID (where onboarding places containers). */
  NGINX_NODE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", at most 32')
    .optional(),
  NGINX_STAGE: z.enum(['stage1', 'stage2']).default('stage2'),
  NGINX_BIN: z.string().min(1).default('nginx'),
  NGINX_PREFIX: z.string().min(1).default('/etc/nginx/'),
  NGINX_CONF: z.string().min(1).default('/etc/nginx/nginx.conf'),
  NGINX_MAP_PATH: z.string().min(1).default('/etc/nginx/collab/routes.map'),
  /** argv split on spaces, no shell; empty: `NGINX_BIN -p NGINX_PREFIX -c NGINX_CONF -s reload`. */
  NGINX_RELOAD_CMD: z.string().optional(),
  NGINX_STATUS_URL: url(['http:']).default('http://127.0.0.1:8081/collab/routes-hash'),
  NGINX_COMMAND_TIMEOUT_MS: int(100, 300_000).default(15_000),
  NGINX_CONFIRM_TIMEOUT_MS: int(100, 120_000).default(5_000),
  NGINX_COALESCE_MIN_MS: int(0, 60_000).default(250),
  NGINX_COALESCE_MAX_MS: int(0, 600_000).default(2_000),
  NGINX_RECONCILE_INTERVAL_MS: int(1_000, 86_400_000).default(60_000),
  /** Comma-separated IPv4 CIDRs a route's VPN address must fall inside. */
  NGINX_VPN_RANGES: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}(,\d{1,3}(\.\d{1,3}){3}\/\d{1,2})*$/, 'comma-separated IPv4 CIDRs')
    .default('172.16.0.0/16'),
  /** Stage 1: gateway node that serves routes whose gateway_node is null. */
  NGINX_DEFAULT_GATEWAY_NODE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/)
    .optional(),
  /** Stage 1: `node=host:port` pairs, comma-separated, for every gateway node. */
  NGINX_GATEWAY_NODES: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}=[a-z0-9.-]+:\d{1,5}(,[a-z0-9][a-z0-9-]{0,31}=[a-z0-9.-]+:\d{1,5})*$/, 'node=host:port,...')
    .optional(),
  // Live routes (docs/nginx.md "Live routes"): set -> route changes go to nginx's lua_shared_dict, no reload.
  /** The Stage 2 nginx's route channel (unix socket of renderStage2Conf's `live`); empty: reload on every change. */
  NGINX_ROUTES_SOCKET: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]{1,100}$/, 'an absolute path')
    .optional(),
  /** How often the worker reads what nginx serves (generation, count, hash) and heals a difference with a snapshot. */
  NGINX_LIVE_CHECK_MS: int(100, 3_600_000).default(2_000),

  /** Single sign-on (docs/sso.md). */
  SSO_ENABLED: bool.default(true),
  /** The OpenID provider's issuer URL (its public address, ending in the mount path /oidc). */
  SSO_ISSUER: url(['http:', 'https:'])
    .refine((v) => new URL(v).pathname === '/oidc' && !new URL(v).search, 'must end in /oidc, without query')
    .optional(),
  /** JSON {"keys":[<private RSA JWK>, ...]}: the ID/access token signing keys; the first signs. */
  SSO_JWKS: z.string().optional(),
  /** How browsers reach service hosts (Stage 1): scheme, and a port when it is not the scheme's own. */
  SSO_SERVICE_SCHEME: z.enum(['https', 'http']).default('https'),
  SSO_SERVICE_PORT: int(1, 65535).optional(),
  SSO_SESSION_TTL_S: int(60, 30 * 86_400).default(8 * 3600),
  /** How long a protected-service check's answer may be reused (revocation takes effect within it). */
  SSO_CHECK_CACHE_MS: int(0, 10_000).default(1_000),

  /** Dashboard sign-in through the provider (docs/sso.md#dashboard-sign-in): who is an operator, how long its tokens live. */
  DASHBOARD_OPERATORS: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'comma-separated user ids or emails')
    .optional(),
  DASHBOARD_TOKEN_TTL_S: int(60, 12 * 3600).default(3600),

  /** TLS at the edge (libs/certificates; certificates-config.ts). */
  ...certificatesEnvShape,
  /** Abuse limits (issue 23, README "Security"): sign-in throttle and per-endpoint write budgets. */
  SIGNIN_MAX_FAILURES_ACCOUNT: int(1, 1_000).default(5),
  SIGNIN_MAX_FAILURES_SOURCE: int(1, 100_000).default(20),
  SIGNIN_LOCK_BASE_MS: int(100, 3_600_000).default(1_000),
  SIGNIN_LOCK_MAX_MS: int(1_000, 86_400_000).default(900_000),
  SIGNIN_FORGET_MS: int(1_000, 86_400_000).default(900_000),
  RATE_LIMIT_WRITE_MAX: int(0, 1_000_000).default(120),
  RATE_LIMIT_WRITE_WINDOW_MS: int(1_000, 3_600_000).default(60_000),
  RATE_LIMIT_TOKEN_MAX: int(0, 1_000_000).default(10),
  RATE_LIMIT_TOKEN_WINDOW_MS: int(1_000, 86_400_000).default(3_600_000),
  RATE_LIMIT_ANON_MAX: int(0, 1_000_000).default(300),
  RATE_LIMIT_ANON_WINDOW_MS: int(1_000, 3_600_000).default(60_000),
});

export type Env = z.infer<typeof envSchema>;
