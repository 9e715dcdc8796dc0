import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './nginx';

const run = promisify(execFile);
/** initdb and pg_ctl: TEST_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export const PG_BIN =
  process.env.TEST_PG_BIN ??
  (() => {
    const versions = existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
      : [];
    return `/usr/lib/postgresql/${versions[0] ?? '15'}/bin`;
  })();

/**
 * A PostgreSQL server of the test's own (fault tests stop and restart it; the shared server on
 * 5432 is never touched): its own data directory under a temp dir, its own socket directory and a
 * free loopback port. initdb and pg_ctl run as the `postgres` user (initdb refuses root).
 */
export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/<db> */
  url(db?: string): string;
  createDatabase(name: string): Promise<string>;
  /** `immediate` is a crash (no checkpoint; recovery replays the WAL at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  close(): Promise<void>;
}

async function asPostgres(args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', ...args], { timeout: 60_000 });
  return stdout;
}

export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), `cgw-pg-${label}-`));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  await mkdir(sock);
  const { stdout: ids } = await run('id', ['-u', 'postgres']);
  const { stdout: gids } = await run('id', ['-g', 'postgres']);
  for (const d of [dir, sock]) await chown(d, Number(ids), Number(gids));
  await asPostgres([join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c max_connections=60 -c fsync=off -c shared_buffers=16MB`;
  const ctl = (...args: string[]) => asPostgres([join(PG_BIN, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), ...args]);
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  let running = false;
  const pg = {
    port,
    url,
    async createDatabase(name: string) {
      const c = new Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '')}"`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    async start() {
      await ctl('-w', '-t', '60', '-o', opts, 'start');
      running = true;
    },
    async stop(mode: 'fast' | 'immediate' = 'fast') {
      await ctl('-w', '-t', '60', '-m', mode, 'stop');
      running = false;
    },
    async restart(mode: 'fast' | 'immediate' = 'fast') {
      await pg.stop(mode);
      await pg.start();
    },
    async close() {
      process.removeListener('exit', reap);
      if (running) await pg.stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  // If the test process dies without close(), don't leave a server behind.
  const reap = () => {
    if (running) spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
  };
  process.once('exit', reap);
  await pg.start();
  return pg;
}
