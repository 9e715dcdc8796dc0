import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '@app/config';
import { DATA_SOURCE, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import { TokenClaims, TokenService } from '@app/auth';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { createTestDatabase } from './db';
import { call } from './http';
import { TEST_KEK, TEST_PRIVATE_JWKS, testTokens } from './tokens';

export { TEST_KID } from './tokens';
/** Signs the audit checkpoints of test processes (no development key file written). */
export const TEST_AUDIT_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * Environment for a test process: its own database and Redis prefix, the test process's token key
 * (the processes under test issue tokens: onboarding) and KEK (test/support/tokens.ts), quiet logs.
 */
export function testEnv(dbUrl: string, label: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: dbUrl,
    DATABASE_CREATE_IF_MISSING: 'false',
    REDIS_PREFIX: `cgw-test-${label}-${process.pid}`,
    JWT_PRIVATE_JWKS: TEST_PRIVATE_JWKS,
    KEY_ENCRYPTION_KEYS: TEST_KEK,
    AUDIT_SIGNING_KEY: TEST_AUDIT_KEY,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    // g.container() signs tokens for containers never onboarded; onboarding specs turn this off.
    AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'true',
    // Most specs run no worker: a first /collab/vpn-config must not wait for a render nobody does.
    VPN_CONFIG_RENDER_WAIT_MS: '0',
    ...extra,
  };
}

/** A container token for a fresh container (or the ids given). */
export function containerToken(tokens: TokenService, claims: Partial<TokenClaims> = {}) {
  const containerId = claims.sub ?? randomUUID();
  const orgId = claims.org ?? randomUUID();
  const projectId = claims.project ?? randomUUID();
  const token = tokens.sign({ role: 'container', ...claims, sub: containerId, org: orgId, project: projectId }, 3600);
  return { token, containerId, orgId, projectId };
}

export interface TestGateway {
  url: string;
  app: NestFastifyApplication;
  config: AppConfig;
  tokens: TokenService;
  store: EventStore;
  pool: Pool;
  /** A token for a fresh container (or the one given). */
  container(claims?: Partial<TokenClaims>): { token: string; containerId: string; orgId: string; projectId: string };
  post(
    path: string,
    body: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Events in the store, in global order (optionally of one stream). */
  events(streamId?: string): Promise<{ stream_id: string; event_type: string; event_id: string; data: any; metadata: any }[]>;
  close(): Promise<void>;
}

export async function startTestGateway(label: string, extra: Record<string, string> = {}): Promise<TestGateway> {
  const db = await createTestDatabase(label);
  const config = loadConfig(testEnv(db.url, label, extra));
  const app = await createGateway(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const tokens = testTokens(config);
  const pool = poolOf(app.get<DataSource>(DATA_SOURCE));
  return {
    url,
    app,
    config,
    tokens,
    store: app.get(EventStore),
    pool,
    container(claims = {}) {
      return containerToken(tokens, claims);
    },
    post(path, body, token, headers = {}) {
      return call(url, 'POST', path, token, body, headers);
    },
    async events(streamId) {
      const { rows } = await pool.query(
        `SELECT stream_id, event_type, event_id::text, data, metadata FROM events
         ${streamId ? 'WHERE stream_id = $1' : ''} ORDER BY global_position`,
        streamId ? [streamId] : [],
      );
      return rows;
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
