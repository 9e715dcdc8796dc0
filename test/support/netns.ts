import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** A process started inside a namespace; output kept for failure messages. */
export interface NsChild {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Network namespaces, veth links and processes inside them, all named with one random suffix so
 * parallel runs never meet, and all removed by destroy() (call it in afterAll, even on failure).
 * Nothing here adds an address or a route to the host's own namespace.
 */
export class NetnsLab {
  readonly suffix = randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly children: NsChild[] = [];

  /** Fails, naming what is missing, when this machine cannot run the lab (never skips). */
  static async preflight(binaries: string[]): Promise<void> {
    const missing: string[] = [];
    if (process.getuid?.() !== 0) missing.push('root (ip netns needs CAP_SYS_ADMIN and CAP_NET_ADMIN)');
    for (const b of ['ip', ...binaries]) {
      const found = await execFileP('sh', ['-c', `command -v ${b}`]).then(
        () => true,
        () => false,
      );
      if (!found) missing.push(`the ${b} binary (scripts/setup.sh test installs it)`);
    }
    if (!existsSync('/dev/net/tun') || !statSync('/dev/net/tun').isCharacterDevice()) missing.push('/dev/net/tun (tun devices)');
    if (missing.length) throw new Error(`the VPN end-to-end test cannot run here; missing: ${missing.join(', ')}`);
    const probe = `cvpn-probe-${randomBytes(3).toString('hex')}`;
    try {
      await execFileP('ip', ['netns', 'add', probe]);
    } catch (err) {
      throw new Error(`the VPN end-to-end test cannot run here: cannot create a network namespace (${(err as Error).message.trim()})`);
    }
    try {
      await execFileP('ip', ['netns', 'exec', probe, 'ip', 'tuntap', 'add', 'dev', 'probe0', 'mode', 'tun']);
    } catch (err) {
      throw new Error(
        `the VPN end-to-end test cannot run here: cannot create a tun device in a namespace (${(err as Error).message.trim()})`,
      );
    } finally {
      await execFileP('ip', ['netns', 'del', probe]).catch(() => undefined);
    }
  }

  name(role: string): string {
    return `cvpn-${role}-${this.suffix}`;
  }

  async addNamespace(role: string): Promise<string> {
    const ns = this.name(role);
    await execFileP('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await this.must(ns, 'ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces, each end with its address (CIDR). Interface names stay under 16 characters. */
  async link(a: { ns: string; dev: string; cidr: string }, b: { ns: string; dev: string; cidr: string }): Promise<void> {
    await execFileP('ip', ['link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns]);
    for (const end of [a, b]) {
      await this.must(end.ns, 'ip', ['addr', 'add', end.cidr, 'dev', end.dev]);
      await this.must(end.ns, 'ip', ['link', 'set', end.dev, 'up']);
    }
  }

  /** /etc/netns/<ns>/hosts: `ip netns exec` shows it as /etc/hosts inside the namespace. */
  async hosts(ns: string, lines: string[]): Promise<void> {
    await mkdir(`/etc/netns/${ns}`, { recursive: true });
    await writeFile(`/etc/netns/${ns}/hosts`, ['127.0.0.1 localhost', ...lines, ''].join('\n'));
  }

  run(ns: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<Ran> {
    return new Promise((resolve) => {
      execFile(
        'ip',
        ['netns', 'exec', ns, cmd, ...args],
        { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000, cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
  }

  async must(
    ns: string,
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
  ): Promise<string> {
    const r = await this.run(ns, cmd, args, opts);
    if (r.code !== 0) throw new Error(`[${ns}] ${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  spawn(ns: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): NsChild {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const c: NsChild = {
      child,
      output: () => out,
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        if (child.exitCode === null && !child.signalCode) {
          child.kill(signal);
          const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
        }
      },
    };
    this.children.push(c);
    return c;
  }

  /** Stops every process started here, deletes the namespaces (their veths go with them) and hosts files. */
  async destroy(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop().catch(() => undefined)));
    for (const ns of this.namespaces) {
      // Anything still running in the namespace (a forked daemon) is killed before it goes.
      const pids = await execFileP('ip', ['netns', 'pids', ns]).then(
        (r) => r.stdout.split('\n').filter(Boolean),
        () => [],
      );
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await execFileP('ip', ['netns', 'del', ns]).catch(() => undefined);
      await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }
}
