import { spawn } from 'node:child_process';

/** Runs a command (no shell), optional stdin, bounded by a timeout; resolves with stdout, rejects naming stderr. */
export function exec(bin: string, args: string[], input?: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} ${args.join(' ')}: ${signal ?? `exit ${code}`}: ${err.trim().slice(0, 500)}`));
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a command that exits without reading: its status tells
      child.stdin.end(input);
    }
  });
}
