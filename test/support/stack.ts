import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '@app/config';
import { DATA_SOURCE, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import type { TokenClaims } from '@app/auth';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { createWorker } from '../../apps/worker/src/bootstrap';
import { createTestDatabase } from './db';
import { containerToken, testEnv } from './gateway';
import { testTokens } from './tokens';
import { call } from './http';

export { eventually, StopWaiting } from './eventually';

/**
 * A gateway and a worker on one test database and Redis prefix, each of which can be stopped and
 * started again (a restart keeps the database, as in production).
 */
export async function startStack(label: string, extra: Record<string, string> = {}) {
  const db = await createTestDatabase(label);
  const config: AppConfig = loadConfig(testEnv(db.url, label, { WORKER_HTTP_PORT: '0', ...extra }));
  const tokens = testTokens(config);
  let gateway: NestFastifyApplication | null = null;
  let worker: NestFastifyApplication | null = null;
  let url = '';

  const stack = {
    config,
    get url() {
      return url;
    },
    get gateway() {
      return gateway!;
    },
    get pool(): Pool {
      return poolOf(gateway!.get<DataSource>(DATA_SOURCE));
    },
    get store(): EventStore {
      return gateway!.get(EventStore);
    },
    /** `port` when the address must be known beforehand (SSO_ISSUER, nginx's auth_request upstream). */
    async startGateway(port = 0) {
      gateway = await createGateway(config);
      await gateway.listen({ host: '127.0.0.1', port });
      url = `http://127.0.0.1:${(gateway.getHttpServer().address() as { port: number }).port}`;
    },
    async stopGateway() {
      await gateway?.close();
      gateway = null;
    },
    /**
     * The worker shares the gateway's config, except that it runs no projectors unless asked:
     * most tests read models the gateway projects (the default topology puts them in the worker;
     * test/integration/worker-projections.spec.ts covers that).
     */
    async startWorker(opts: { projections?: boolean } = {}) {
      worker = await createWorker({ ...config, projections: { ...config.projections, enabled: opts.projections ?? false } });
      await worker.init();
    },
    async stopWorker() {
      await worker?.close();
      worker = null;
    },
    get worker() {
      return worker!;
    },
    container(claims: Partial<TokenClaims> = {}) {
      return containerToken(tokens, claims);
    },
    viewer(org: string, projects?: string[]) {
      return tokens.sign({ role: 'viewer', sub: `viewer-${randomUUID()}`, org, projects }, 3600);
    },
    operator() {
      return tokens.sign({ role: 'operator', sub: 'operator-test' }, 3600);
    },
    async post(path: string, body: unknown, token: string) {
      const res = await call(url, 'POST', path, token, body);
      return { status: res.status, body: res.text ? res.body : null };
    },
    async get(path: string, token: string) {
      const { status, body } = await call(url, 'GET', path, token);
      return { status, body };
    },
    async close() {
      await stack.stopWorker();
      await stack.stopGateway();
      await db.drop();
    },
  };
  return stack;
}

/** Reads a Server-Sent Events stream, collecting parsed events until closed. */
export function openSse(url: string, token: string) {
  const controller = new AbortController();
  const events: { event: string; data: any; id?: string }[] = [];
  const ready = fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal }).then(
    async (res) => {
      if (res.status !== 200) throw new Error(`SSE answered ${res.status}: ${await res.text()}`);
      void (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += decoder.decode(chunk, { stream: true });
            let i: number;
            while ((i = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, i);
              buffer = buffer.slice(i + 2);
              const e: { event: string; data: any; id?: string } = { event: 'message', data: '' };
              for (const line of block.split('\n')) {
                if (line.startsWith('event:')) e.event = line.slice(6).trim();
                else if (line.startsWith('data:')) e.data += line.slice(5).trim();
                else if (line.startsWith('id:')) e.id = line.slice(3).trim();
              }
              try {
                e.data = JSON.parse(e.data);
              } catch {
                /* plain text */
              }
              events.push(e);
            }
          }
        } catch {
          /* aborted */
        }
      })();
      return res.status;
    },
  );
  return { events, ready, close: () => controller.abort() };
}
