import { createHash } from 'node:crypto';

/**
 * The hash chain, pure. Each event's hash is sha256 over its canonical form (computed by
 * PostgreSQL's audit_canonical(), see the audit migration); the chain's link for the n-th sealed
 * event is sha256(link[n-1] || hash[n]), starting from 32 zero bytes. A signed checkpoint commits
 * to the link at one seq, so rewriting history before it needs the private key.
 */
export const GENESIS = Buffer.alloc(32);

export function nextLink(previous: Buffer, hash: Buffer): Buffer {
  return createHash('sha256').update(previous).update(hash).digest();
}

/** The bytes a checkpoint signature covers. */
export function checkpointMessage(c: {
  seq: string;
  globalPosition: string;
  transactionId: string;
  link: Buffer;
  signedAt: string;
}): Buffer {
  return Buffer.from(`collab-audit-checkpoint:v1:${c.seq}:${c.globalPosition}:${c.transactionId}:${c.link.toString('hex')}:${c.signedAt}`);
}

/** The bytes a compaction signature covers: which day, how many events, and the digest of their seals. */
export function compactionMessage(c: { id: string; day: string; eventsRemoved: string; digest: Buffer }): Buffer {
  return Buffer.from(`collab-audit-compaction:v1:${c.id}:${c.day}:${c.eventsRemoved}:${c.digest.toString('hex')}`);
}

/** Running digest over the seals a compaction covers: (seq, hash) in seq order. */
export class SealDigest {
  private readonly h = createHash('sha256');
  add(seq: string, hash: Buffer): void {
    this.h.update(`${seq}:`).update(hash);
  }
  digest(): Buffer {
    return this.h.digest();
  }
}

/** Orders (transaction_id, global_position) pairs, both decimal strings: the gap-safe log order. */
export function compareKeys(a: { tx: string; pos: string }, b: { tx: string; pos: string }): number {
  const t = BigInt(a.tx) - BigInt(b.tx);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const p = BigInt(a.pos) - BigInt(b.pos);
  return p === 0n ? 0 : p < 0n ? -1 : 1;
}

export type ChainProblemKind = 'altered' | 'deleted' | 'inserted' | 'chain-broken' | 'checkpoint-invalid' | 'compaction-invalid';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The event (or seal) concerned. */
  position: string | null;
  event_id: string | null;
  seq: string | null;
  detail: string;
}
