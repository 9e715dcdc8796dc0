import { Client, Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { checkDatabaseSafety, createDataSource, DatabaseOptions, ensureDatabase } from './data-source';

export interface PrepareOptions extends DatabaseOptions {
  createIfMissing: boolean;
  migrate: boolean;
  log?: (msg: string) => void;
}

/** Create (if allowed), connect, check, and migrate: what every process does before serving. */
export async function prepareDatabase(o: PrepareOptions): Promise<DataSource> {
  const log = o.log ?? (() => undefined);
  if (o.createIfMissing && (await ensureDatabase(o.url))) log(`created database ${new URL(o.url).pathname.slice(1)}`);
  const ds = createDataSource(o);
  await ds.initialize();
  guardCheckedOutClients(ds);
  try {
    const problems = await checkDatabaseSafety(ds);
    if (problems.length) throw new Error('Refusing to start:\n  ' + problems.join('\n  '));
    if (o.migrate) {
      for (const m of await migrateLocked(ds, o.url)) log(`applied migration ${m}`);
    }
    return ds;
  } catch (err) {
    await ds.destroy();
    throw err;
  }
}

/** Gateway and worker may start together: a session-level lock makes one migrate, the other wait. */
async function migrateLocked(ds: DataSource, url: string): Promise<string[]> {
  const lock = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock(hashtext('collab-gateway:migrations'))");
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.end();
  }
}

/**
 * node-postgres emits 'error' on a client whose connection drops, and pg-pool listens only while
 * the client is idle in the pool. A client checked out at that moment (a group commit, a
 * projector batch) had no listener, so a PostgreSQL restart crashed the process with an unhandled
 * 'error' event. Every client gets a listener on checkout; the query in flight still fails (and
 * the caller answers 503), and pg-pool discards the broken client when it is released.
 */
function guardCheckedOutClients(ds: DataSource): void {
  const pool = (ds.driver as unknown as { master: Pool }).master;
  const guarded = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', () => undefined);
  });
}
