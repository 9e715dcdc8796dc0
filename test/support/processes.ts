import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './nginx';
import { eventually, StopWaiting } from './eventually';

const ROOT = join(__dirname, '../..');

/** A gateway or worker running as a real child process (so SIGKILL is a real crash). */
export interface AppProcess {
  kind: 'gateway' | 'worker';
  url: string;
  pid: number;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** A node child process that answered its readiness URL; output kept for failure messages. */
export interface ReadyChild {
  child: ChildProcess;
  output(): string;
  /** Sends `signal` if the process still runs, and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Runs `node <args>` with exactly `env` and waits until `readyUrl` answers 2xx. A child still
 * running when this process exits is killed. Shared by the fault suites and `npm run bench`.
 */
export async function spawnUntilReady(
  label: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  timeoutMs = 60_000,
): Promise<ReadyChild> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  try {
    await eventually(
      () => {
        if (child.exitCode !== null || child.signalCode) throw new StopWaiting(`${label} exited during start:\n${out}`);
        return fetch(readyUrl).then(
          (r) => r.ok,
          () => false,
        );
      },
      timeoutMs,
      100,
      () => `${label} answering ${readyUrl}:\n${out}`,
    );
  } catch (err) {
    if (!(err instanceof StopWaiting)) child.kill('SIGKILL');
    throw err;
  }
  const done = async () => {
    process.removeListener('exit', reap);
    await exited;
  };
  const running = () => child.exitCode === null && !child.signalCode;
  return {
    child,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (running()) child.kill(signal);
      await done();
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await done();
        clearTimeout(t);
      } else await done();
    },
  };
}

/**
 * Starts apps/<kind>/src/main.ts from the TypeScript sources (test/support/ts-register.js) with
 * the given environment, on a free port, and waits for /health/live.
 */
export async function spawnApp(kind: 'gateway' | 'worker', env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<AppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = await spawnUntilReady(
    kind,
    ['-r', join(ROOT, 'test/support/ts-register.js'), join(ROOT, `apps/${kind}/src/main.ts`)],
    { PATH: process.env.PATH, ...env, [kind === 'gateway' ? 'HTTP_PORT' : 'WORKER_HTTP_PORT']: String(port) },
    `${url}/health/live`,
    timeoutMs,
  );
  return { kind, url, pid: app.child.pid!, output: app.output, kill: app.kill, stop: app.stop };
}
