import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { loadConfig } from '@app/config';
import { containerToken, testEnv } from './gateway';
import { testTokens } from './tokens';
import { startPrivatePostgres, PrivatePostgres } from './private-pg';
import { startPrivateRedis, PrivateRedis } from './private-redis';
import { AppProcess, spawnApp } from './processes';

/**
 * What a fault test stands on: a private PostgreSQL and a private Redis (which the test may stop,
 * restart and flush), one database, the environment for gateway and worker child processes, a
 * token service with the same key, and a pool for looking into the store.
 */
export async function startFaultStack(label: string, extra: Record<string, string> = {}) {
  const pg: PrivatePostgres = await startPrivatePostgres(label);
  const redis: PrivateRedis = await startPrivateRedis(label);
  const dbUrl = await pg.createDatabase(`cgw_fault_${label.replace(/[^a-z0-9]/g, '_')}`);
  const env = testEnv(dbUrl, label, { REDIS_URL: redis.url, ...extra });
  const config = loadConfig(env);
  const tokens = testTokens(config);
  // Few connections, short waits: this pool only inspects, and must not hang while PG is down.
  const pool = new Pool({ connectionString: dbUrl, max: 3, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  const apps: AppProcess[] = [];
  return {
    pg,
    redis,
    env,
    config,
    tokens,
    pool,
    async spawn(kind: 'gateway' | 'worker', more: Record<string, string> = {}) {
      const app = await spawnApp(kind, { ...env, ...more });
      apps.push(app);
      return app;
    },
    container() {
      return containerToken(tokens);
    },
    operator() {
      return tokens.sign({ role: 'operator', sub: `operator-${randomUUID()}` }, 3600);
    },
    async close() {
      await Promise.all(apps.map((a) => a.kill('SIGKILL')));
      await pool.end().catch(() => undefined);
      await redis.close();
      await pg.close();
    },
  };
}

export type FaultStack = Awaited<ReturnType<typeof startFaultStack>>;

/** POST with a client-side deadline far above any server timeout: a hang shows as `status: 0`. */
export async function postJson(
  url: string,
  token: string,
  body: unknown,
  deadlineMs = 20_000,
): Promise<{ status: number; body: any; headers: Headers | null; error?: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(deadlineMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  } catch (err) {
    return { status: 0, body: null, headers: null, error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message };
  }
}

/** The FQDN a mapped service gets (libs/common FQDN scheme) under the test's domain. */
export const fqdnOf = (c: { containerId: string; orgId: string }, service: string, domain: string) =>
  `uc-${c.containerId}--${service}.org-${c.orgId}.${domain}`;

/** Maps `service` of container `c` through the gateway; throws unless it is acknowledged. */
export async function mapService(
  gatewayUrl: string,
  c: { token: string; projectId: string },
  service: string,
  port: number,
): Promise<void> {
  const res = await postJson(`${gatewayUrl}/collab/event`, c.token, {
    event: { type: 'user-container:map-http-service', name: service, port },
    project_id: c.projectId,
  });
  if (res.status !== 202) throw new Error(`map-http-service answered ${res.status}: ${JSON.stringify(res.body)}`);
}
