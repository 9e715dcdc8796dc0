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
  projections: { enabled: boolean; pollMs: number; batchSize: number; leaseMs: number };
  health: {
    watchdogIntervalMs: number;
    staleAfterIntervals: number;
    offlineGraceMs: number;
    sweepEveryMs: number;
    outageMinContainers: number;
    historyBucketS: number;
    historyRetentionH: number;
    routesRestoreWatchdogs: number;
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
  const staleMs = e.HEALTH_WATCHDOG_INTERVAL_MS * e.HEALTH_STALE_AFTER_INTERVALS;
  if (e.HEALTH_OFFLINE_GRACE_MS <= staleMs) {
    throw new ConfigError([{ variable: 'HEALTH_OFFLINE_GRACE_MS', message: `must be longer than the stale threshold (${staleMs} ms)` }]);
  }
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
    projections: {
      enabled: e.PROJECTIONS_ENABLED,
      pollMs: e.PROJECTION_POLL_MS,
      batchSize: e.PROJECTION_BATCH_SIZE,
      leaseMs: e.PROJECTION_LEASE_MS,
    },
    health: {
      watchdogIntervalMs: e.HEALTH_WATCHDOG_INTERVAL_MS,
      staleAfterIntervals: e.HEALTH_STALE_AFTER_INTERVALS,
      offlineGraceMs: e.HEALTH_OFFLINE_GRACE_MS,
      sweepEveryMs: e.HEALTH_SWEEP_EVERY_MS,
      outageMinContainers: e.HEALTH_OUTAGE_MIN_CONTAINERS,
      historyBucketS: e.HEALTH_HISTORY_BUCKET_S,
      historyRetentionH: e.HEALTH_HISTORY_RETENTION_H,
      routesRestoreWatchdogs: e.ROUTES_RESTORE_WATCHDOGS,
    },
  };
}
