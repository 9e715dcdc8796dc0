import { ChildProcess, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnUntilReady } from '../../test/support/processes';

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

export async function startProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  nodeArgs: string[] = [],
): Promise<BenchProcess> {
  const app = await spawnUntilReady(name, [...nodeArgs, join(ROOT, script)], { ...process.env, ...env }, readyUrl);
  const pid = app.child.pid!;
  return {
    name,
    child: app.child,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
    cpuSeconds: () => procCpuSeconds(pid),
    stop: app.stop,
  };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (0 once it is gone). */
export function procCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
