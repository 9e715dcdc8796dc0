import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { VpnNodeConfig } from '@app/config';
import { gatewayAddress, parsePool, VPN_DEVICE } from '@app/onboarding';
import { exec } from './exec';
import { ManagementClient } from './management';
import { missingFiles, parseClients, sessionsToKill } from './node-files';
import { IsolationParts, NFT_FAMILY, NFT_TABLE, renderRuleset, rulesetProblems } from './nft';

export interface VpnNodeReport {
  ready: boolean;
  node: string;
  problems: string[];
  openvpn: { running: boolean; pid?: number; starts: number; config_hash?: string };
  management: { connected: boolean };
  nftables: { ok: boolean; problems: string[]; repairs: number; checked_at?: string };
  sessions: { connected: number; killed: number; last_kill_ms?: number };
}

const RECONCILE_MS = 5_000;
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} vpn-node: ${msg}\n`);

/**
 * Supervises one gateway node's OpenVPN server: starts it once the worker has rendered every file
 * server.conf names, restarts it (backoff) when it exits or server.conf changes, keeps the
 * nftables isolation table in place (checked every VPN_NFT_CHECK_MS; a missing rule fails
 * readiness and is put back on the next check), and ends the live session of every container whose
 * line leaves the node's `clients` file or changes serial (deletion, certificate replaced),
 * through the management interface. Reconnects are refused by the CRL, ccd-exclusive and the
 * auth script, which read the same render.
 */
export class VpnNodeSupervisor {
  private child?: ChildProcess;
  private starts = 0;
  private restartAt = 0;
  private confText?: string;
  private clients?: Map<string, string>;
  private connected: string[] = [];
  private killed = 0;
  private lastKillMs?: number;
  private nft: { problems: string[]; failedOnce: boolean; repairs: number; checkedAt?: Date } = {
    problems: ['not checked yet'],
    failedOnce: false,
    repairs: 0,
  };
  private missing: string[] = ['not checked yet'];
  private lastMgmtError?: string;
  private clientsText?: string;
  private reconciledAt = 0;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly mgmt: ManagementClient;
  private readonly isolation: IsolationParts;
  private readonly nodeDir: string;
  private readonly runDir: string;

  constructor(private readonly config: VpnNodeConfig) {
    this.nodeDir = resolve(config.nodeDir);
    this.runDir = resolve(config.runDir);
    this.mgmt = new ManagementClient(join(this.runDir, 'management.sock'));
    this.isolation = { device: VPN_DEVICE, gatewayAddress: gatewayAddress(parsePool(config.poolCidr)) };
  }

  async start(): Promise<void> {
    await mkdir(this.runDir, { recursive: true, mode: 0o700 });
    await this.applyRules();
    await this.checkRules();
    await this.tick();
    const every = (ms: number, f: () => Promise<void>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy || this.stopping) return;
        busy = true;
        f()
          .catch((err) => log(`error: ${(err as Error).message}`))
          .finally(() => (busy = false));
      }, ms);
      this.timers.push(t);
    };
    every(this.config.watchMs, () => this.tick());
    every(this.config.nftCheckMs, () => this.checkRules());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.timers.forEach(clearInterval);
    this.mgmt.close();
    await this.stopOpenvpn();
  }

  report(): VpnNodeReport {
    const running = this.running();
    const problems = [
      ...this.missing.map((f) => `waiting for ${f} from the worker's render`),
      ...(running ? [] : ['openvpn is not running']),
      ...(running && !this.mgmt.connected ? ['management interface not connected'] : []),
      ...(running && !existsSync(`/sys/class/net/${VPN_DEVICE}`) ? [`no ${VPN_DEVICE} device`] : []),
      ...this.nft.problems.map((p) => `nftables: ${p}`),
    ];
    return {
      ready: problems.length === 0,
      node: this.config.nodeId,
      problems,
      openvpn: { running, pid: this.child?.pid, starts: this.starts },
      management: { connected: this.mgmt.connected },
      nftables: {
        ok: this.nft.problems.length === 0,
        problems: this.nft.problems,
        repairs: this.nft.repairs,
        checked_at: this.nft.checkedAt?.toISOString(),
      },
      sessions: { connected: this.connected.length, killed: this.killed, last_kill_ms: this.lastKillMs },
    };
  }

  private running(): boolean {
    return !!this.child && this.child.exitCode === null && !this.child.signalCode;
  }

  /** One pass: files present? openvpn up with the current server.conf? sessions that must end? */
  private async tick(): Promise<void> {
    this.missing = await missingFiles(this.nodeDir);
    if (this.missing.length) return;
    const conf = await readFile(join(this.nodeDir, 'server.conf'), 'utf8');
    if (this.running() && conf !== this.confText) {
      log('server.conf changed: restarting openvpn');
      await this.stopOpenvpn();
      this.restartAt = 0;
    }
    if (!this.running() && Date.now() >= this.restartAt) await this.startOpenvpn(conf);
    if (!this.running()) return;
    if (!this.mgmt.connected) {
      await this.mgmt.connect().catch((err: Error) => {
        if (err.message !== this.lastMgmtError) log(`management interface: ${(this.lastMgmtError = err.message)}`);
      });
    }
    if (!this.mgmt.connected) return;
    const text = await readFile(join(this.nodeDir, 'clients'), 'utf8').catch(() => null);
    if (text === null) return;
    // The list of sessions is asked for when the render changed, and every few seconds besides
    // (a supervisor restarted while a deleted container was still connected).
    if (text === this.clientsText && Date.now() - this.reconciledAt < RECONCILE_MS) return;
    const now = parseClients(text);
    const started = Date.now();
    const sessions = await this.mgmt.sessions();
    this.connected = sessions.map((x) => x.cn);
    this.reconciledAt = Date.now();
    const ending = new Set(sessionsToKill(this.clients, now, this.connected));
    for (const session of sessions.filter((x) => ending.has(x.cn))) {
      if (await this.mgmt.kill(session.cid).catch(() => false)) {
        this.killed++;
        this.lastKillMs = Date.now() - started;
        log(`session of ${session.cn} ended (deleted, or its certificate replaced or revoked)`);
      }
    }
    this.clients = now;
    this.clientsText = text;
  }

  private async startOpenvpn(conf: string): Promise<void> {
    this.starts++;
    this.confText = conf;
    const sock = join(this.runDir, 'management.sock');
    await rm(sock, { force: true }); // a stale socket from a previous run; before the spawn, never after
    // --cd first: options apply in order, and server.conf names files relative to the node directory.
    const args = ['--cd', this.nodeDir, '--config', 'server.conf', '--management', sock, 'unix', '--tmp-dir', this.runDir];
    const child = spawn(this.config.openvpnBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    log(`openvpn started (pid ${child.pid}, start ${this.starts})`);
    for (const s of [child.stdout!, child.stderr!])
      s.on('data', (d: Buffer) => process.stdout.write(prefixLines('openvpn | ', d.toString())));
    child.on('error', (err) => log(`openvpn: ${err.message}`));
    child.on('exit', (code, signal) => {
      this.mgmt.close();
      if (this.stopping) return;
      const backoff = Math.min(30_000, 500 * 2 ** Math.min(this.starts, 6));
      this.restartAt = Date.now() + backoff;
      log(`openvpn exited (${signal ?? code}); restarting in ${backoff} ms`);
    });
  }

  private async stopOpenvpn(): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }

  private async applyRules(): Promise<void> {
    await exec(this.config.nftBin, ['-f', '-'], renderRuleset(this.isolation));
  }

  /** Checks the live table; a failed check fails readiness, and the next one puts the table back. */
  private async checkRules(): Promise<void> {
    let problems: string[];
    try {
      problems = rulesetProblems(await exec(this.config.nftBin, ['list', 'table', NFT_FAMILY, NFT_TABLE]), this.isolation);
    } catch (err) {
      problems = [`table ${NFT_FAMILY} ${NFT_TABLE} cannot be listed: ${(err as Error).message.split('\n')[0]}`];
    }
    this.nft.checkedAt = new Date();
    if (!problems.length) {
      this.nft = { ...this.nft, problems, failedOnce: false };
      return;
    }
    if (this.nft.failedOnce) {
      log(`nftables isolation missing (${problems.join('; ')}): putting it back`);
      await this.applyRules();
      this.nft.repairs++;
      this.nft.failedOnce = false;
      return this.checkRules();
    }
    log(`nftables isolation missing: ${problems.join('; ')}`);
    this.nft = { ...this.nft, problems, failedOnce: true };
  }
}

function prefixLines(prefix: string, text: string): string {
  return text
    .split('\n')
    .filter((l) => l.length)
    .map((l) => `${prefix}${l}\n`)
    .join('');
}
