import type { Pool } from 'pg';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ProjectionContext } from '@app/projections';
import { checkpointMessage, GENESIS, nextLink } from './domain/chain';
import type { AuditKeys } from './signing';

export const SEAL_PROJECTION = 'audit-seal';

export interface SealOptions {
  /** Sign a checkpoint at least every this many sealed events... */
  checkpointEvery: number;
  /** ...and when the last one is older than this and something new was sealed. */
  checkpointIntervalS: number;
}

/** sha256 of each event's canonical form, computed by PostgreSQL from the stored row. */
export const HASH_SQL = `sha256(convert_to(audit_canonical(e), 'UTF8'))`;

/**
 * The sealer: a follower of the log like a projection (same gap-safe order, checkpoint and lease;
 * run by the worker), which writes per event its hash and chain link into audit_seals, and signs
 * a checkpoint every `checkpointEvery` events or `checkpointIntervalS`. It owns no rebuildable
 * tables: re-sealing from the current log would bless whatever was altered.
 */
export class SealProjection implements Projection {
  readonly name = SEAL_PROJECTION;
  readonly tables = [] as const;

  constructor(
    private readonly keys: AuditKeys,
    private readonly options: SealOptions,
  ) {}

  /**
   * The hashes are read before the seal's transaction begins: over a batch of thousands of events
   * this is the slow part, and inside the transaction (which holds an xid from its checkpoint
   * lock) it held back what every follower of the log may read. Outside it, it holds back nothing.
   * The rows are append-only (compaction removes sealed events only); an event altered after its
   * hash was read is sealed as it was read, which is what verify then reports as altered.
   */
  prepare(events: RecordedEvent[], db: Pool): Promise<Map<string, Buffer>> {
    return hashesOf(events, db);
  }

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<void> {
    if (ctx.rebuilding) throw new Error('the audit seal cannot be rebuilt');
    if (!events.length) return;
    const c = ctx.client;
    const hashes = (ctx.prepared as Map<string, Buffer> | undefined) ?? (await hashesOf(events, c));
    const last = (await c.query(`SELECT seq::text AS seq, link FROM audit_seals ORDER BY audit_seals.seq DESC LIMIT 1`)).rows[0];
    let seq = BigInt(last?.seq ?? 0);
    let link: Buffer = last?.link ?? GENESIS;
    const cols = {
      seq: [] as string[],
      pos: [] as string[],
      tx: [] as string[],
      id: [] as string[],
      hash: [] as Buffer[],
      link: [] as Buffer[],
    };
    for (const e of events) {
      const hash = hashes.get(e.globalPosition);
      if (!hash) throw new Error(`event at ${e.globalPosition} vanished before it was sealed`);
      seq += 1n;
      link = nextLink(link, hash);
      cols.seq.push(String(seq));
      cols.pos.push(e.globalPosition);
      cols.tx.push(e.transactionId);
      cols.id.push(e.eventId);
      cols.hash.push(hash);
      cols.link.push(link);
    }
    await c.query(
      `INSERT INTO audit_seals (seq, global_position, transaction_id, event_id, hash, link)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]::xid8[], $4::uuid[], $5::bytea[], $6::bytea[])`,
      [cols.seq, cols.pos, cols.tx, cols.id, cols.hash, cols.link],
    );
    const cp = (await c.query(`SELECT seq::text AS seq, signed_at FROM audit_checkpoints ORDER BY audit_checkpoints.seq DESC LIMIT 1`))
      .rows[0];
    const sinceSeq = seq - BigInt(cp?.seq ?? 0);
    const ageS = cp ? (Date.now() - new Date(cp.signed_at).getTime()) / 1000 : Infinity;
    if (sinceSeq >= BigInt(this.options.checkpointEvery) || ageS >= this.options.checkpointIntervalS) {
      const lastEvent = events[events.length - 1];
      await signCheckpoint(ctx, this.keys, {
        seq: String(seq),
        globalPosition: lastEvent.globalPosition,
        transactionId: lastEvent.transactionId,
        link,
      });
    }
  }
}

/** sha256 of each event's canonical form, by position, computed by PostgreSQL from the stored rows. */
async function hashesOf(events: RecordedEvent[], db: Pick<Pool, 'query'>): Promise<Map<string, Buffer>> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of events) {
    const t = new Date(e.recordedAt).getTime();
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const { rows } = await db.query(
    `SELECT e.global_position::text AS p, ${HASH_SQL} AS h FROM events e
      WHERE e.global_position = ANY($1::bigint[]) AND e.recorded_at BETWEEN $2 AND $3`,
    // (JS dates carry milliseconds, the column microseconds: widen by one millisecond each side)
    [events.map((e) => e.globalPosition), new Date(lo - 1), new Date(hi + 1)],
  );
  return new Map<string, Buffer>(rows.map((r) => [r.p, r.h]));
}

async function signCheckpoint(
  ctx: ProjectionContext,
  keys: AuditKeys,
  c: { seq: string; globalPosition: string; transactionId: string; link: Buffer },
): Promise<void> {
  const signedAt = new Date().toISOString();
  const signature = keys.sign(checkpointMessage({ ...c, signedAt }));
  await ctx.client.query(
    `INSERT INTO audit_checkpoints (seq, global_position, transaction_id, link, signed_at, key_id, signature)
     VALUES ($1, $2, $3::xid8, $4, $5, $6, $7)`,
    [c.seq, c.globalPosition, c.transactionId, c.link, signedAt, keys.keyId, signature],
  );
}
