import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';

/** The injection token of the process's one pg pool (the one under the TypeORM DataSource). */
export const PG_POOL = Symbol('PG_POOL');

/** The pg pool under TypeORM's DataSource: every query of the application goes through it. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

/** Thrown inside withTransaction: roll back and return `value` (a decision not to write, not a failure). */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/**
 * Runs `fn` in a transaction on one connection: COMMIT when it returns, ROLLBACK when it throws
 * (a thrown Rollback returns its value). A connection whose ROLLBACK failed, or that failed with
 * no SQL error code (a broken socket), is discarded rather than returned to the pool.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    let out: T;
    try {
      out = await fn(client);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      if (err instanceof Rollback) return err.value as T;
      throw err;
    }
    await client.query('COMMIT');
    return out;
  } catch (err) {
    broken ||= !(err as { code?: string }).code;
    throw err;
  } finally {
    client.release(broken ? true : undefined);
  }
}
