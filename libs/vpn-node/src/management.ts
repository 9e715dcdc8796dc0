import { createConnection, Socket } from 'node:net';

/**
 * The sessions of a `status 3` answer (CLIENT_LIST rows: common name and client id). A session
 * still in its TLS handshake is listed with the common name `UNDEF` until its certificate is
 * verified: it is left out, not taken for a client the list does not name (a clean-clone CI run
 * saw a container's new tunnel killed that way within a second of connecting). The next
 * reconciliation sees it by its name.
 */
export function parseSessions(lines: string[]): { cn: string; cid: string }[] {
  return lines
    .filter((l) => l.startsWith('CLIENT_LIST\t'))
    .map((l) => l.split('\t'))
    .map((f) => ({ cn: f[1], cid: f[10] }))
    .filter((s) => s.cn !== 'UNDEF' && /^\d+$/.test(s.cid));
}

/**
 * A client of OpenVPN's management interface (`--management <socket> unix`): one command at a
 * time, each answered by a SUCCESS/ERROR line or, for `status`, lines up to END. Real-time
 * notifications (lines starting with `>`) are ignored.
 */
export class ManagementClient {
  private socket?: Socket;
  private buffer = '';
  private queue: Promise<unknown> = Promise.resolve();
  private waiting?: { multi: boolean; lines: string[]; done: (lines: string[]) => void; fail: (e: Error) => void };

  constructor(
    private readonly path: string,
    private readonly timeoutMs = 3_000,
  ) {}

  get connected(): boolean {
    return !!this.socket && !this.socket.destroyed;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(this.path);
      s.setEncoding('utf8');
      s.once('connect', () => {
        this.socket = s;
        resolve();
      });
      s.once('error', reject);
      s.on('data', (d: string) => this.onData(d));
      s.on('close', () => {
        if (this.socket === s) this.socket = undefined;
        this.waiting?.fail(new Error('management interface closed'));
        this.waiting = undefined;
      });
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  /** The connected sessions that have a name (see parseSessions). */
  async sessions(): Promise<{ cn: string; cid: string }[]> {
    return parseSessions(await this.command('status 3', true));
  }

  /**
   * Ends one session with `client-kill`, which tells the client to RESTART (explicit-exit-notify):
   * it reconnects at once and meets the CRL, the missing ccd file and the auth script.
   */
  async kill(cid: string): Promise<boolean> {
    if (!/^\d+$/.test(cid)) throw new Error('management client-kill: not a client id');
    const [answer] = await this.command(`client-kill ${cid}`, false);
    return answer.startsWith('SUCCESS');
  }

  private command(cmd: string, multi: boolean): Promise<string[]> {
    const run = async () => {
      await this.connect();
      return new Promise<string[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          reject(new Error(`management: no answer to ${cmd.split(' ')[0]} within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
        this.waiting = {
          multi,
          lines: [],
          done: (l) => (clearTimeout(timer), resolve(l)),
          fail: (e) => (clearTimeout(timer), reject(e)),
        };
        this.socket!.write(`${cmd}\n`);
      });
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      const w = this.waiting;
      if (!w || line.startsWith('>')) continue;
      if (w.multi) {
        if (line === 'END') {
          this.waiting = undefined;
          w.done(w.lines);
        } else if (line.startsWith('ERROR')) {
          this.waiting = undefined;
          w.fail(new Error(`management: ${line}`));
        } else w.lines.push(line);
      } else if (line.startsWith('SUCCESS') || line.startsWith('ERROR')) {
        this.waiting = undefined;
        w.done([line]);
      }
    }
  }
}
