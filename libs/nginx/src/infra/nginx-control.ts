import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from './run';

export interface NginxControlOptions {
  bin: string;
  prefix: string;
  /** The main config the running nginx was started with. */
  conf: string;
  /** The include the worker renders; the main config must name it by this exact path. */
  mapPath: string;
  reloadCmd: readonly string[];
  statusUrl: string;
  commandTimeoutMs: number;
  confirmTimeoutMs: number;
}

/** Talks to one nginx: test a candidate include, reload, and read back the hash it serves. */
export class NginxControl {
  constructor(private readonly o: NginxControlOptions) {}

  /**
   * `nginx -t` on a copy of the main config whose include of the map names the candidate instead,
   * written beside the main config so its relative includes still resolve.
   */
  async test(candidate: string): Promise<void> {
    const main = await readFile(this.o.conf, 'utf8');
    const needle = `include ${this.o.mapPath};`;
    if (!main.includes(needle)) throw new Error(`${this.o.conf} has no "${needle}" line`);
    const testConf = join(dirname(this.o.conf), `.${basename(this.o.conf)}.test-${randomBytes(4).toString('hex')}`);
    await writeFile(testConf, main.split(needle).join(`include ${candidate};`), { mode: 0o600 });
    try {
      await run([this.o.bin, '-q', '-t', '-p', this.o.prefix, '-c', testConf], this.o.commandTimeoutMs);
    } finally {
      await rm(testConf, { force: true });
    }
  }

  async reload(): Promise<void> {
    await run(this.o.reloadCmd, this.o.commandTimeoutMs);
  }

  /** The hash of the map the serving workers loaded, or null when the status server does not answer. */
  async servingHash(): Promise<string | null> {
    try {
      const res = await fetch(this.o.statusUrl, { signal: AbortSignal.timeout(1_000), headers: { connection: 'close' } });
      return res.ok ? (await res.text()).trim() : null;
    } catch {
      return null;
    }
  }

  /**
   * Polls until nginx serves `hash`, and only `hash`, for a settle period. After a reload the
   * master starts new workers and signals the old ones 100 ms later (ngx_msleep(100) in
   * ngx_master_process_cycle); until then either generation may accept a connection, so one
   * new answer is not enough. Throws when the deadline passes.
   */
  async confirm(hash: string, settleMs = 250): Promise<void> {
    const deadline = Date.now() + this.o.confirmTimeoutMs;
    let seen: string | null = null;
    let newSince: number | null = null;
    for (let wait = 10; ; wait = Math.min(wait * 2, 50)) {
      seen = await this.servingHash();
      const now = Date.now();
      if (seen !== hash) newSince = null;
      else if (newSince === null) newSince = now;
      else if (now - newSince >= settleMs) return;
      if (now + wait > deadline) break;
      await new Promise((r) => setTimeout(r, wait));
    }
    throw new Error(`nginx serves ${seen ?? 'nothing'} ${this.o.confirmTimeoutMs} ms after the reload, not only ${hash}`);
  }
}
