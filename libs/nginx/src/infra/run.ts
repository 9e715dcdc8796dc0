import { execFile } from 'node:child_process';

/** Runs a command without a shell, asynchronously, killed after `timeoutMs`. Rejects with its stderr. */
export function run(argv: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.killed ? `timed out after ${timeoutMs} ms` : e.code === 'ENOENT' ? `${cmd} not found` : `exit ${e.code}`;
      reject(new Error(`${argv.join(' ')}: ${why}: ${lastLines(stderr)}`));
    });
  });
}

const lastLines = (s: string) => s.trim().split('\n').slice(-3).join(' | ').slice(0, 600);
