import { Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { START, type Checkpoint, type EventStore } from '@app/event-store';
import { applyInTransaction, checkpointLock, ensureProjectionRow, readCheckpoint } from './checkpoints';
import type { Projection } from './types';
import { withTransaction } from '@app/database';

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

/**
 * Rebuilds a projection from the whole log into fresh copies of its tables while the live tables
 * keep serving and the live projector keeps running (docs/design.md, rule 6), then swaps them in:
 *
 * 1. `CREATE TABLE <t>__rb_<id> (LIKE <t> INCLUDING ALL)` for each table; a checkpoint row
 *    `<name>:rebuild` starts at the beginning of the log.
 * 2. Batches are applied to the copies, each in its own short transaction with that checkpoint
 *    (long transactions would hold back every reader's snapshot horizon), without side effects.
 * 3. The swap transaction takes the live checkpoint's lock (checkpointLock: the live projector
 *    takes it first in each batch, so it pauses between batches), applies what is left, renames the tables and gives the
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

interface Job {
  projection: Projection;
  shadow: Map<string, string>;
  rowName: string;
  events: number;
}

export async function rebuildProjection(
  pool: Pool,
  store: EventStore,
  projection: Projection,
  opts: number | RebuildOptions,
): Promise<RebuildResult> {
  return (await rebuildProjections(pool, store, [projection], opts))[0];
}

/**
 * Rebuilds several projections from one pass over the log: each page is read once and applied
 * to every projection's copies at the same time (one transaction and connection each), then each
 * is swapped in as above.
 */
export async function rebuildProjections(
  pool: Pool,
  store: EventStore,
  projections: Projection[],
  opts: number | RebuildOptions,
): Promise<RebuildResult[]> {
  const { batchSize, onProgress } = typeof opts === 'number' ? { batchSize: opts, onProgress: undefined } : opts;
  const started = Date.now();
  const id = started.toString(36);
  const jobs: Job[] = [];
  try {
    for (const projection of projections) {
      for (const t of projection.tables) if (!IDENT.test(t)) throw new Error(`table name ${t} is not a plain identifier`);
      const job: Job = {
        projection,
        shadow: new Map(projection.tables.map((t) => [t, `${t}__rb_${id}`])),
        rowName: `${projection.name}:rebuild`,
        events: 0,
      };
      await ensureProjectionRow(pool, projection.name);
      await withTransaction(pool, async (c) => {
        // Refuses a second rebuild of the same projection running at the same time.
        await c.query(`INSERT INTO projections (name) VALUES ($1)`, [job.rowName]).catch((err) => {
          if ((err as { code?: string }).code === '23505') throw new Error(`a rebuild of ${projection.name} is already running`);
          throw err;
        });
        for (const [live, copy] of job.shadow) await c.query(`CREATE TABLE "${copy}" (LIKE "${live}" INCLUDING ALL)`);
      });
      jobs.push(job);
    }

    let checkpoint: Checkpoint = START;
    let read = 0;
    // readPages asks for the next page (on another connection) while this one is applied.
    for await (const page of store.readPages(checkpoint, batchSize)) {
      const from = checkpoint;
      await Promise.all(
        jobs.map((job) =>
          withTransaction(pool, async (c) => {
            const out = await applyInTransaction(c, job.rowName, job.projection, job.shadow, from, page.events, null, true);
            if (out.kind === 'lost') throw new Error(`rebuild checkpoint of ${job.projection.name} moved under it`);
            job.events += page.events.length;
          }),
        ),
      );
      checkpoint = page.checkpoint;
      read += page.events.length;
      onProgress?.({ events: read, checkpoint });
    }

    const results: RebuildResult[] = [];
    for (const job of jobs) {
      const final = await swapIn(pool, store, job, id, batchSize);
      for (const live of job.projection.tables) await pool.query(`DROP TABLE IF EXISTS "${live}__old_${id}"`);
      const ms = Date.now() - started;
      logger.log(`rebuilt ${job.projection.name} from ${job.events} events in ${ms} ms`);
      results.push({ projection: job.projection.name, events: job.events, checkpoint: final, ms });
    }
    return results;
  } catch (err) {
    for (const job of jobs) {
      for (const copy of job.shadow.values()) await pool.query(`DROP TABLE IF EXISTS "${copy}"`).catch(() => undefined);
      await pool.query(`DELETE FROM projections WHERE name = $1`, [job.rowName]).catch(() => undefined);
    }
    throw err;
  }
}

/** The swap: under the live checkpoint's lock, apply what is left, rename the tables, hand over the checkpoint. */
async function swapIn(pool: Pool, store: EventStore, job: Job, id: string, batchSize: number): Promise<Checkpoint> {
  const { projection, shadow, rowName } = job;
  return withTransaction(pool, async (c) => {
    // The live projector takes this lock first in each batch, so it pauses between batches.
    await c.query(checkpointLock(projection.name));
    await c.query(`SELECT 1 FROM projections WHERE name = $1 FOR UPDATE`, [projection.name]);
    let cp = await readCheckpoint(c, rowName);
    for (;;) {
      const page = await store.readAll(cp, batchSize, c);
      if (!page.events.length) break;
      const out = await applyInTransaction(c, rowName, projection, shadow, cp, page.events, null, true);
      if (out.kind === 'lost') throw new Error(`rebuild checkpoint of ${projection.name} moved under it`);
      cp = page.checkpoint;
      job.events += page.events.length;
    }
    for (const [live, copy] of shadow) {
      await swapIndexNames(c, live, copy, id);
      await copyStorageParameters(c, live, copy);
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
}

/**
 * Gives the copy the live table's storage parameters (LIKE copies none), e.g. the fillfactor that
 * keeps the health writes HOT. Set at the swap, not when the copy is made: the fold then writes
 * packed pages (with the fillfactor while folding, the health replay ran at 35,700 instead of
 * 43,700 events/s), and a live update moves each row once to a page with room.
 */
async function copyStorageParameters(c: PoolClient, live: string, copy: string): Promise<void> {
  const { rows } = await c.query<{ options: string[] | null }>(`SELECT reloptions AS options FROM pg_class WHERE oid = $1::regclass`, [
    `"${live}"`,
  ]);
  if (rows[0]?.options?.length) await c.query(`ALTER TABLE "${copy}" SET (${rows[0].options.join(', ')})`);
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
    (await c.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table])).rows as {
      indexname: string;
      indexdef: string;
    }[];
  const copyByShape = new Map((await list(copy)).map((i) => [shapeOf(i.indexdef), i.indexname]));
  for (const index of await list(live)) {
    const twin = copyByShape.get(shapeOf(index.indexdef));
    if (!twin) continue;
    await c.query(`ALTER INDEX "${index.indexname}" RENAME TO "${`${index.indexname}`.slice(0, 40)}__old_${id}"`);
    await c.query(`ALTER INDEX "${twin}" RENAME TO "${index.indexname}"`);
  }
}
