import { randomUUID } from 'node:crypto';
import { postJson } from './fault-stack';

/**
 * Sustained ingest from several clients for fault tests (a database restart, a killed gateway).
 * Each client sends its events one after another and retries each with the same event_id until it
 * is acknowledged, as container-functions.sh does.
 */
export class Load {
  readonly acked = new Map<string, { status: number; position: string }>();
  readonly sent: string[] = [];
  readonly unavailable: { status: number; contentType: string | null; retryAfter: string | null; code: string }[] = [];
  readonly unexpected: string[] = [];
  private stopping = false;
  private aborted = false;
  private runners: Promise<void>[] = [];

  /** `url()` is asked before every try, so clients can move to another gateway process. */
  constructor(
    private readonly url: () => string,
    private readonly clients: { token: string; projectId: string }[],
    /** Connection errors (a killed gateway) are retried like 503s instead of being unexpected. */
    private readonly retryConnectionErrors = false,
  ) {}

  readonly connectionErrors: string[] = [];

  start() {
    this.runners = this.clients.map((c, i) => this.run(c, i));
  }

  async stop() {
    this.stopping = true;
    await Promise.all(this.runners);
  }

  /** Gives up at once (a failed test must not leave clients retrying forever). */
  abort() {
    this.stopping = this.aborted = true;
  }

  describe() {
    return `acked ${this.acked.size}, 503s ${this.unavailable.length}, unexpected ${this.unexpected.length}: ${this.unexpected.slice(-5).join(' | ')}`;
  }

  private async run(c: { token: string; projectId: string }, i: number) {
    for (let n = 0; !this.stopping; n++) {
      const event_id = randomUUID();
      this.sent.push(event_id);
      // Every third event changes a mapping (load, decide, append with an expected version).
      const event =
        n % 3 === 2
          ? { type: 'user-container:map-http-service', name: 'web', port: 1024 + n }
          : { type: 'user-container:watchdog', system: { cpu: { usage: `0.${i}${n % 10}` } } };
      for (;;) {
        if (this.aborted) return;
        const res = await postJson(`${this.url()}/collab/event`, c.token, { event, project_id: c.projectId, event_id });
        if (res.status === 202 || res.status === 200) {
          this.acked.set(event_id, { status: res.status, position: res.body.position });
          break;
        }
        if (res.status === 503) {
          this.unavailable.push({
            status: res.status,
            contentType: res.headers!.get('content-type'),
            retryAfter: res.headers!.get('retry-after'),
            code: res.body?.code,
          });
        } else if (res.status === 0 && res.error !== 'timeout' && this.retryConnectionErrors) {
          this.connectionErrors.push(res.error!);
        } else {
          this.unexpected.push(`${res.status} ${res.error ?? JSON.stringify(res.body)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
