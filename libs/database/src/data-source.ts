import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '@app/migrations';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** Longest wait for a pool connection (a free slot or a new connection); then the request fails (503). */
  connectTimeoutMs?: number;
  applicationName?: string;
}

export function createDataSource(o: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: o.url,
    migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: o.applicationName ?? 'collab-gateway',
    extra: {
      max: o.poolSize,
      statement_timeout: o.statementTimeoutMs,
      // No JIT for any statement of ours: they are short, or bulk reads by an index, and compiling
      // costs more than running them. A plan estimated over a large log passes jit_above_cost
      // however few rows it touches: the projection lag query compiled for 130-175 ms to run
      // for 1 ms (the soak's slide, issue 18), a projector's batch for 50-75 ms.
      options: '-c jit=off',
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
    },
  });
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates the database named in the URL when it is missing (development convenience). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!DB_NAME.test(name)) throw new Error(`DATABASE_URL: database name "${name}" must match ${DB_NAME}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } catch (err) {
    // Two processes starting together (npm start runs gateway and worker at once): the loser sees
    // duplicate_database, or a unique violation on pg_database's name index when both passed the
    // SELECT above before either committed.
    const code = (err as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * Refuses settings under which an acknowledged event could be lost.
 * Returns the problems; the caller decides to stop.
 */
export async function checkDatabaseSafety(ds: DataSource): Promise<string[]> {
  const problems: string[] = [];
  const [{ synchronous_commit }] = await ds.query('SHOW synchronous_commit');
  if (synchronous_commit === 'off') {
    problems.push('PostgreSQL synchronous_commit is off: an acknowledged event could be lost on a crash');
  }
  const [{ server_version_num }] = await ds.query('SHOW server_version_num');
  if (Number(server_version_num) < 130000) {
    problems.push(`PostgreSQL ${server_version_num} is too old: xid8 and pg_current_xact_id need 13 or later`);
  }
  return problems;
}
