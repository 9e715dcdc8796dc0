import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './nginx';
import { eventually, StopWaiting } from './eventually';

/**
 * A Redis server of the test's own (fault tests restart and flush it; the shared one on 6379 is
 * never touched), on a free loopback port, without persistence, as a child of the test process:
 * a restart starts empty, as a Redis without AOF/RDB would after a crash.
 */
export interface PrivateRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  flushAll(): Promise<void>;
  /** One command on a short-lived connection. */
  command(name: string, ...args: (string | number)[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function startPrivateRedis(label: string, settings: Record<string, string> = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), `cgw-redis-${label}-`));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const reap = () => child?.kill('SIGKILL');
  process.once('exit', reap);

  const ping = async () => {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  };

  const r: PrivateRedis = {
    port,
    url,
    async start() {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--maxmemory-policy',
          'noeviction',
          ...Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]),
        ],
        { stdio: 'ignore' },
      );
      const started = child;
      await eventually(
        () => {
          if (started.exitCode !== null) throw new StopWaiting(`redis-server exited with ${started.exitCode}`);
          return ping();
        },
        10_000,
        50,
        `redis-server answering on ${port}`,
      );
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await r.stop();
      await r.start();
    },
    async flushAll() {
      const c = new Redis(url);
      try {
        await c.flushall();
      } finally {
        c.disconnect();
      }
    },
    async command(name: string, ...args: (string | number)[]) {
      const c = new Redis(url);
      try {
        return await c.call(name, ...args);
      } finally {
        c.disconnect();
      }
    },
    async close() {
      process.removeListener('exit', reap);
      await r.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}
