import type { Pool } from 'pg';
import { checkpointMessage, compactionMessage, compareKeys, GENESIS, nextLink, SealDigest, type ChainProblem } from './domain/chain';
import { HASH_SQL } from './seal.projection';
import type { AuditKeys } from './signing';

export interface VerifyResult {
  ok: boolean;
  /** Seals walked (the chain's length). */
  sealed: number;
  /** Events present and matching their seal. */
  events_checked: number;
  /** Seals whose events were compacted away (covered by a signed compaction). */
  compacted: number;
  checkpoints: number;
  compactions: number;
  last_checkpoint: { seq: string; position: string; signed_at: string } | null;
  /** Sealed events after the last signed checkpoint (their links are not signed yet). */
  unsigned_tail: number;
  /** Committed events the sealer has not reached yet (not a failure). */
  not_yet_sealed: number;
  problem: ChainProblem | null;
  ms: number;
}

type Seal = { seq: string; pos: string; tx: string; event_id: string; hash: Buffer; link: Buffer; compaction_id: string | null };
type Row = { pos: string; tx: string; event_id: string; hash: Buffer };

/** Keyset pages of a query as one ordered sequence with look-ahead. */
class Pages<T> {
  private buf: T[] = [];
  private i = 0;
  private done = false;
  constructor(
    private readonly fetch: (last: T | null) => Promise<T[]>,
    private readonly size: number,
  ) {}
  async peek(): Promise<T | null> {
    if (this.i < this.buf.length) return this.buf[this.i];
    if (this.done) return null;
    const last = this.buf[this.buf.length - 1] ?? null;
    this.buf = await this.fetch(last);
    this.i = 0;
    if (this.buf.length < this.size) this.done = true;
    return this.buf[0] ?? null;
  }
  take(): void {
    this.i++;
  }
}

/**
 * Walks the chain: every seal in seq order beside every event in the sealer's order up to the
 * last seal, recomputing each event's hash and each link, and checking the signed checkpoints and
 * compactions. Names the first event altered (hash differs), deleted (sealed, gone, not
 * compacted) or inserted out of band (present in sealed history without a seal, or beyond its
 * stream's head in event_streams: written around the store).
 */
export async function verifyChain(pool: Pool, keys: AuditKeys, pageSize = 20_000): Promise<VerifyResult> {
  const started = Date.now();
  const fail = (p: ChainProblem, partial: Partial<VerifyResult> = {}): VerifyResult => ({
    ...result,
    ...partial,
    ok: false,
    problem: p,
    ms: Date.now() - started,
  });
  const result: VerifyResult = {
    ok: true,
    sealed: 0,
    events_checked: 0,
    compacted: 0,
    checkpoints: 0,
    compactions: 0,
    last_checkpoint: null,
    unsigned_tail: 0,
    not_yet_sealed: 0,
    problem: null,
    ms: 0,
  };

  const head = (
    await pool.query(
      `SELECT seq::text AS seq, global_position::text AS pos, transaction_id::text AS tx FROM audit_seals ORDER BY audit_seals.seq DESC LIMIT 1`,
    )
  ).rows[0] as { seq: string; pos: string; tx: string } | undefined;
  const checkpoints = new Map<string, { seq: string; pos: string; tx: string; link: Buffer; signed_at: Date; signature: Buffer }>();
  for (const c of (
    await pool.query(
      `SELECT seq::text AS seq, global_position::text AS pos, transaction_id::text AS tx, link, signed_at, signature FROM audit_checkpoints ORDER BY audit_checkpoints.seq`,
    )
  ).rows) {
    const message = checkpointMessage({
      seq: c.seq,
      globalPosition: c.pos,
      transactionId: c.tx,
      link: c.link,
      signedAt: new Date(c.signed_at).toISOString(),
    });
    if (!keys.verify(message, c.signature)) {
      return fail({
        kind: 'checkpoint-invalid',
        position: c.pos,
        event_id: null,
        seq: c.seq,
        detail: `checkpoint at seq ${c.seq} does not carry a valid signature of ${keys.keyId}`,
      });
    }
    checkpoints.set(c.seq, c);
    result.last_checkpoint = { seq: c.seq, position: c.pos, signed_at: new Date(c.signed_at).toISOString() };
  }
  result.checkpoints = checkpoints.size;
  const compactions = (
    await pool.query(
      `SELECT id::text AS id, day::text AS day, events_removed::text AS n, digest, signature FROM audit_compactions ORDER BY audit_compactions.id`,
    )
  ).rows;
  result.compactions = compactions.length;
  const digests = new Map<string, SealDigest>(compactions.map((c) => [c.id, new SealDigest()]));

  if (head) {
    const seals = new Pages<Seal>(
      async (last) =>
        (
          await pool.query(
            `SELECT seq::text AS seq, global_position::text AS pos, transaction_id::text AS tx, event_id::text AS event_id, hash, link, compaction_id::text AS compaction_id
         FROM audit_seals WHERE audit_seals.seq > $1 ORDER BY audit_seals.seq LIMIT ${pageSize}`,
            [last?.seq ?? '0'],
          )
        ).rows,
      pageSize,
    );
    const events = new Pages<Row>(
      async (last) =>
        (
          await pool.query(
            `SELECT e.global_position::text AS pos, e.transaction_id::text AS tx, e.event_id::text AS event_id, ${HASH_SQL} AS hash FROM events e
        WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint) AND (e.transaction_id, e.global_position) <= ($3::xid8, $4::bigint)
        ORDER BY e.transaction_id, e.global_position LIMIT ${pageSize}`,
            [last?.tx ?? '0', last?.pos ?? '0', head.tx, head.pos],
          )
        ).rows,
      pageSize,
    );
    let link: Buffer = GENESIS;
    for (;;) {
      const s = await seals.peek();
      const e = await events.peek();
      if (!s && !e) break;
      const order = !s ? 1 : !e ? -1 : compareKeys(s, e);
      if (order > 0) {
        return fail({
          kind: 'inserted',
          position: e!.pos,
          event_id: e!.event_id,
          seq: null,
          detail: `event at position ${e!.pos} (${e!.event_id}) is in sealed history but has no seal: inserted out of band`,
        });
      }
      const at = { position: s!.pos, event_id: s!.event_id, seq: s!.seq };
      if (order < 0) {
        if (!s!.compaction_id || !digests.has(s!.compaction_id)) {
          return fail({
            kind: 'deleted',
            ...at,
            detail: `event at position ${s!.pos} (${s!.event_id}, seq ${s!.seq}) was sealed but is missing from the log`,
          });
        }
        digests.get(s!.compaction_id)!.add(s!.seq, s!.hash);
        result.compacted++;
      } else {
        if (e!.event_id !== s!.event_id || !e!.hash.equals(s!.hash)) {
          return fail({
            kind: 'altered',
            ...at,
            detail: `event at position ${s!.pos} (${s!.event_id}) differs from what was sealed (seq ${s!.seq})`,
          });
        }
        if (s!.compaction_id) {
          return fail({ kind: 'compaction-invalid', ...at, detail: `seal ${s!.seq} is marked compacted but its event is still present` });
        }
        events.take();
        result.events_checked++;
      }
      link = nextLink(link, s!.hash);
      if (!link.equals(s!.link)) {
        return fail({
          kind: 'chain-broken',
          ...at,
          detail: `the link stored at seq ${s!.seq} does not follow from the previous links: audit_seals was rewritten`,
        });
      }
      const cp = checkpoints.get(s!.seq);
      if (cp && (!cp.link.equals(link) || cp.pos !== s!.pos)) {
        return fail({
          kind: 'checkpoint-invalid',
          ...at,
          detail: `the chain at seq ${s!.seq} does not match its signed checkpoint: history before it was rewritten`,
        });
      }
      seals.take();
      result.sealed++;
    }
    result.unsigned_tail = Number(BigInt(head.seq) - BigInt(result.last_checkpoint?.seq ?? '0'));
  }

  for (const c of compactions) {
    const digest = digests.get(c.id)!.digest();
    const signed = !!c.signature && keys.verify(compactionMessage({ id: c.id, day: c.day, eventsRemoved: c.n, digest }), c.signature);
    if (!signed || !c.digest?.equals(digest)) {
      return fail({
        kind: 'compaction-invalid',
        position: null,
        event_id: null,
        seq: null,
        detail: `compaction ${c.id} (${c.day}) does not match its signed digest: its seals were changed`,
      });
    }
  }

  // Written around the store: an event beyond its stream's head (event_streams), or in no stream.
  const stray = (
    await pool.query(
      `SELECT k.global_position::text AS pos, k.event_id::text AS event_id, k.stream_id FROM event_keys k
       LEFT JOIN event_streams s ON s.stream_id = k.stream_id
      WHERE s.stream_id IS NULL OR k.stream_version > s.version ORDER BY k.global_position LIMIT 1`,
    )
  ).rows[0];
  if (stray) {
    return fail({
      kind: 'inserted',
      position: stray.pos,
      event_id: stray.event_id,
      seq: null,
      detail: `event at position ${stray.pos} (${stray.event_id}) lies beyond the head of stream ${stray.stream_id}: inserted around the event store`,
    });
  }
  result.not_yet_sealed = Number(
    (
      await pool.query(`SELECT count(*) AS n FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)`, [
        head?.tx ?? '0',
        head?.pos ?? '0',
      ])
    ).rows[0].n,
  );
  return { ...result, ms: Date.now() - started };
}
