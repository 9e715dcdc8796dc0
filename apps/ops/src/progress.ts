/**
 * Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain line every
 * `everyMs` otherwise (logs, CI). stdout stays for the result.
 */
export class Progress {
  private readonly started = Date.now();
  private lastLine = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5_000,
  ) {}

  update(done: number): void {
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = done / secs;
    const left = Math.max(0, this.total - done);
    const eta = rate > 0 ? left / rate : Infinity;
    const pct = this.total ? Math.min(100, (100 * done) / this.total) : 100;
    const text = `${this.label} ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} events (${pct.toFixed(1)}%), ${Math.round(rate).toLocaleString('en')} events/s, ETA ${fmt(eta)}`;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (now - this.lastLine >= this.everyMs) {
      this.lastLine = now;
      this.out.write(`${new Date(now).toISOString()} ${text}\n`);
    }
  }

  done(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.ceil(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
