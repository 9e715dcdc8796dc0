import { ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** A process of the system under test (gateway, worker, the bare ceiling server), run from dist/. */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** Resident set size now, in MB. */
  rssMb(): number;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startProcess(name: string, script: string, env: NodeJS.ProcessEnv, readyUrl: string, nodeArgs: string[] = []): Promise<BenchProcess> {
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${output}`);
    if (await fetch(readyUrl).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`${name} not ready at ${readyUrl}:\n${output}`);
    await sleep(100);
  }
  const stat = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return {
    name,
    child,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    cpuSeconds: () => (Number(stat()[11]) + Number(stat()[12])) / 100,
    async stop() {
      process.removeListener('exit', reap);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
