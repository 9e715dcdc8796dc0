import { createHash } from 'node:crypto';
import { SAFE_HOST, SAFE_VALUE, SkippedRow } from './route';
import { Stage2Pair } from './render-stage2';

/** What nginx should serve in live mode: host -> map value, and each container's hosts (for deltas). */
export interface LiveEntries {
  entries: Map<string, string>;
  byContainer: Map<string, string[]>;
}

/**
 * The same choice as the rendered map (renderMapFile): the final token check, then by host name,
 * the first row of a host wins. Pairs come from stage2Pairs, so every value was re-checked.
 */
export function liveEntries(pairs: readonly Stage2Pair[], skipped: SkippedRow[] = []): LiveEntries {
  const safe = pairs.filter((p) => {
    if (SAFE_HOST.test(p.host) && SAFE_VALUE.test(p.value)) return true;
    skipped.push({ fqdn: SAFE_HOST.test(p.host) ? p.host : '(unprintable)', reason: 'refused by the final token check' });
    return false;
  });
  safe.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  const entries = new Map<string, string>();
  const byContainer = new Map<string, string[]>();
  for (const p of safe) {
    if (entries.has(p.host)) continue;
    entries.set(p.host, p.value);
    const hosts = byContainer.get(p.containerId);
    if (hosts) hosts.push(p.host);
    else byContainer.set(p.containerId, [p.host]);
  }
  return { entries, byContainer };
}

/**
 * The set hash nginx keeps beside its entries (live-lua.ts): XOR of md5("host value") over the
 * entries, so both sides update it per entry. A convergence check, not a defence: every value
 * that reaches nginx is allow-listed on both sides.
 */
export class SetHash {
  private readonly acc = Buffer.alloc(16);

  static of(entries: ReadonlyMap<string, string>): SetHash {
    const h = new SetHash();
    for (const [host, value] of entries) h.toggle(host, value);
    return h;
  }

  static fromHex(hex: string): SetHash {
    const h = new SetHash();
    Buffer.from(hex, 'hex').copy(h.acc);
    return h;
  }

  /** Adds an entry, or removes it when it is in (XOR). */
  toggle(host: string, value: string): void {
    const d = createHash('md5').update(`${host} ${value}`).digest();
    for (let i = 0; i < 16; i++) this.acc[i] ^= d[i];
  }

  hex(): string {
    return this.acc.toString('hex');
  }
}

export type DeltaOp = { op: 'set'; host: string; value: string } | { op: 'del'; host: string };

/** The operations that turn `served` into `next` for the given containers' hosts. */
export function deltaFor(
  containerIds: readonly string[],
  served: { entries: ReadonlyMap<string, string>; byContainer: ReadonlyMap<string, readonly string[]> },
  next: LiveEntries,
): DeltaOp[] {
  const ops: DeltaOp[] = [];
  for (const id of containerIds) {
    const now = new Set(next.byContainer.get(id) ?? []);
    for (const host of served.byContainer.get(id) ?? []) if (!now.has(host)) ops.push({ op: 'del', host });
    for (const host of now) {
      const value = next.entries.get(host)!;
      if (served.entries.get(host) !== value) ops.push({ op: 'set', host, value });
    }
  }
  return ops;
}

export const deltaBody = (ops: readonly DeltaOp[]) =>
  ops.map((o) => (o.op === 'set' ? `set ${o.host} ${o.value}\n` : `del ${o.host}\n`)).join('');
export const snapshotBody = (entries: ReadonlyMap<string, string>) => {
  const out: string[] = [];
  for (const [host, value] of entries) out.push(`${host} ${value}\n`);
  return out.join('');
};
