import { deltaBody, deltaFor, LiveEntries, SetHash, snapshotBody } from '../domain/live-routes';
import { LiveClient, LiveConflict, LiveState } from '../infra/live-client';
import { nginxMetrics as m } from '../metrics';

/** What this worker last saw nginx confirm: the generation, the set hash, and the entries behind it. */
interface Served extends LiveEntries {
  generation: number;
  hash: string;
}

export type DeltaOutcome = 'applied' | 'unchanged' | 'needs-snapshot';

/**
 * Pushes routes into a live nginx: a snapshot (every entry) or a delta (the entries of a few
 * containers). Callers hold the node's render lock, so one push at a time; nginx refuses a delta
 * whose base (generation and hash) is not what it serves, so even two workers cannot apply one on
 * top of a state it was not computed from. After every push the answer (generation, count, hash)
 * is compared with what the worker computed; any difference asks for a snapshot.
 */
export class LivePusher {
  private served: Served | null = null;

  constructor(
    private readonly client: LiveClient,
    private readonly node: string,
  ) {}

  state(): Promise<LiveState> {
    return this.client.state();
  }

  /** True when nginx serves exactly what this worker last confirmed. */
  matches(s: LiveState): boolean {
    return !!this.served && s.ready && s.generation === this.served.generation && s.hash === this.served.hash;
  }

  /** Does nginx already serve `next` (same entries), so no snapshot is needed? */
  async inSync(next: LiveEntries): Promise<boolean> {
    const s = await this.client.state();
    const hash = SetHash.of(next.entries).hex();
    if (s.ready && s.hash === hash && s.count === next.entries.size && s.generation > 0) {
      this.served = { ...next, generation: s.generation, hash };
      return true;
    }
    return false;
  }

  async snapshot(next: LiveEntries): Promise<LiveState> {
    const before = await this.client.state();
    const generation = Math.max(before.generation, this.served?.generation ?? 0) + 1;
    const hash = SetHash.of(next.entries).hex();
    this.served = null;
    const s = await this.client.snapshot(generation, snapshotBody(next.entries));
    m.livePushes.inc({ node: this.node, kind: 'snapshot' });
    if (s.generation !== generation || s.count !== next.entries.size || s.hash !== hash) {
      throw new Error(
        `nginx took snapshot ${generation} as generation ${s.generation}, ${s.count} entries, hash ${s.hash}; expected ${next.entries.size}, ${hash}`,
      );
    }
    this.served = { ...next, generation, hash };
    return s;
  }

  /** `next` holds the current routes of `containerIds` (and may hold no others). */
  async delta(containerIds: readonly string[], next: LiveEntries): Promise<DeltaOutcome> {
    const served = this.served;
    if (!served) return 'needs-snapshot';
    const ops = deltaFor(containerIds, served, next);
    if (!ops.length) return 'unchanged';
    const entries = new Map(served.entries);
    const hash = SetHash.fromHex(served.hash);
    for (const o of ops) {
      const old = entries.get(o.host);
      if (old !== undefined) hash.toggle(o.host, old);
      if (o.op === 'set') {
        entries.set(o.host, o.value);
        hash.toggle(o.host, o.value);
      } else entries.delete(o.host);
    }
    const byContainer = new Map(served.byContainer);
    for (const id of containerIds) {
      const hosts = next.byContainer.get(id);
      if (hosts) byContainer.set(id, hosts);
      else byContainer.delete(id);
    }
    const generation = served.generation + 1;
    let s: LiveState;
    try {
      s = await this.client.delta(served.generation, generation, served.hash, deltaBody(ops));
    } catch (err) {
      this.served = null;
      if (err instanceof LiveConflict) {
        m.livePushes.inc({ node: this.node, kind: 'conflict' });
        return 'needs-snapshot';
      }
      throw err;
    }
    m.livePushes.inc({ node: this.node, kind: 'delta' });
    if (s.generation !== generation || s.count !== entries.size || s.hash !== hash.hex()) {
      this.served = null;
      m.livePushes.inc({ node: this.node, kind: 'mismatch' });
      return 'needs-snapshot';
    }
    this.served = { entries, byContainer, generation, hash: s.hash };
    return 'applied';
  }
}
