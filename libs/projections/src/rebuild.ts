import { Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { START, type Checkpoint, type EventStore } from '@app/event-store';
import { applyInTransaction, ensureProjectionRow, readCheckpoint } from './checkpoints';
import type { Projection } from './types';

export interface RebuildResult {
  projection: string;
  events: number;
  checkpoint: Checkpoint;
  ms: number;
}

const IDENT = /^[a-z_][a-z0-9_]{0,40}$/;
/** Page size of rebuilds (HTTP and `ops replay`) unless the projection batch size is larger. */
export const REBUILD_PAGE_EVENTS = 10_000;
const logger = new Logger('projection:rebuild');

async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Rebuilds a projection from the whole log into fresh copies of its tables while the live tables
 * keep serving and the live projector keeps running (DESIGN.md, rule 6), then swaps them in:
 *
 * 1. `CREATE TABLE <t>__rb_<id> (LIKE <t> INCLUDING ALL)` for each table; a checkpoint row
 *    `<name>:rebuild` starts at the beginning of the log.
 * 2. Batches are applied to the copies, each in its own short transaction with that checkpoint
 *    (long transactions would hold back every reader's snapshot horizon), without side effects.
 * 3. The swap transaction locks the live checkpoint row (the live projector locks it first in each
 *    batch, so it pauses between batches), applies what is left, renames the tables and gives the
 *    live row the rebuilt checkpoint. The live projector then sees its checkpoint moved and reloads.
 *
 * Side effects (ROUTES_CHANGED, health notifications) are never prepared: `rebuilding` is true.
 */
export interface RebuildOptions {
  /** Events read and applied per transaction: big pages fold many events per container into one write. */
  batchSize: number;
  /** Called after each applied page (progress bars, logs). */
  onProgress?: (p: { events: number; checkpoint: Checkpoint }) => void;
}

export async function rebuildProjection(pool: Pool, store: EventStore, projection: Projection, opts: number | RebuildOptions): Promise<RebuildResult> {
  const { batchSize, onProgress } = typeof opts === 'number' ? { batchSize: opts, onProgress: undefined } : opts;
  const started = Date.now();
  const id = started.toString(36);
  for (const t of projection.tables) if (!IDENT.test(t)) throw new Error(`table name ${t} is not a plain identifier`);
  const shadow = new Map(projection.tables.map((t) => [t, `${t}__rb_${id}`]));
  const rowName = `${projection.name}:rebuild`;
  await ensureProjectionRow(pool, projection.name);
  await inTransaction(pool, async (c) => {
    // Refuses a second rebuild of the same projection running at the same time.
    await c.query(`INSERT INTO projections (name) VALUES ($1)`, [rowName]).catch((err) => {
      if ((err as { code?: string }).code === '23505') throw new Error(`a rebuild of ${projection.name} is already running`);
      throw err;
    });
    for (const [live, copy] of shadow) await c.query(`CREATE TABLE "${copy}" (LIKE "${live}" INCLUDING ALL)`);
  });

  let events = 0;
  try {
    let checkpoint: Checkpoint = START;
    // The next page is read (on another connection) while this one is applied.
    let page = await store.readAll(checkpoint, batchSize);
    while (page.events.length) {
      const next = store.readAll(page.checkpoint, batchSize);
      next.catch(() => undefined);
      const current = page;
      await inTransaction(pool, async (c) => {
        const out = await applyInTransaction(c, rowName, projection, shadow, checkpoint, current.events, null, true);
        if (out.kind === 'lost') throw new Error(`rebuild checkpoint of ${projection.name} moved under it`);
      });
      checkpoint = current.checkpoint;
      events += current.events.length;
      onProgress?.({ events, checkpoint });
      page = await next;
    }

    const final = await inTransaction(pool, async (c) => {
      await c.query(`SELECT 1 FROM projections WHERE name = $1 FOR UPDATE`, [projection.name]);
      let cp = await readCheckpoint(c, rowName);
      for (;;) {
        const page = await store.readAll(cp, batchSize, c);
        if (!page.events.length) break;
        const out = await applyInTransaction(c, rowName, projection, shadow, cp, page.events, null, true);
        if (out.kind === 'lost') throw new Error(`rebuild checkpoint of ${projection.name} moved under it`);
        cp = page.checkpoint;
        events += page.events.length;
        onProgress?.({ events, checkpoint: cp });
      }
      for (const [live, copy] of shadow) {
        await swapIndexNames(c, live, copy, id);
        await c.query(`ALTER TABLE "${live}" RENAME TO "${live}__old_${id}"`);
        await c.query(`ALTER TABLE "${copy}" RENAME TO "${live}"`);
      }
      await c.query(
        `UPDATE projections p SET transaction_id = r.transaction_id, global_position = r.global_position,
                last_event_at = r.last_event_at, updated_at = now()
           FROM projections r WHERE p.name = $1 AND r.name = $2`,
        [projection.name, rowName],
      );
      await c.query(`DELETE FROM projections WHERE name = $1`, [rowName]);
      return cp;
    });
    for (const live of projection.tables) await pool.query(`DROP TABLE IF EXISTS "${live}__old_${id}"`);
    const ms = Date.now() - started;
    logger.log(`rebuilt ${projection.name} from ${events} events in ${ms} ms`);
    return { projection: projection.name, events, checkpoint: final, ms };
  } catch (err) {
    for (const copy of shadow.values()) await pool.query(`DROP TABLE IF EXISTS "${copy}"`).catch(() => undefined);
    await pool.query(`DELETE FROM projections WHERE name = $1`, [rowName]).catch(() => undefined);
    throw err;
  }
}

/** An index's definition without its own name and its table's: what must match between copies. */
const shapeOf = (indexdef: string) => indexdef.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+ /, '$1');

/**
 * Gives the copy's indexes (and so its primary key and unique constraints) the live table's names,
 * so that the swapped-in table is indistinguishable from a migrated one (later migrations may name
 * them). The live table's indexes move aside first.
 */
async function swapIndexNames(c: PoolClient, live: string, copy: string, id: string): Promise<void> {
  const list = async (table: string) =>
    (await c.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table])).rows as { indexname: string; indexdef: string }[];
  const copyByShape = new Map((await list(copy)).map((i) => [shapeOf(i.indexdef), i.indexname]));
  for (const index of await list(live)) {
    const twin = copyByShape.get(shapeOf(index.indexdef));
    if (!twin) continue;
    await c.query(`ALTER INDEX "${index.indexname}" RENAME TO "${`${index.indexname}`.slice(0, 40)}__old_${id}"`);
    await c.query(`ALTER INDEX "${twin}" RENAME TO "${index.indexname}"`);
  }
}
