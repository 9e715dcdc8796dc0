import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, ensureDatabase } from '@app/database';
import { PG_ADMIN_URL } from '../support/db';

describe('ensureDatabase', () => {
  it('creates a missing database once when several processes start together (npm start runs gateway and worker at once)', async () => {
    const name = `cgw_test_ensure_${process.pid}_${randomBytes(3).toString('hex')}`;
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const created = await Promise.all(Array.from({ length: 6 }, () => ensureDatabase(url.toString())));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount).toBe(1);
      expect(await ensureDatabase(url.toString())).toBe(false);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('createDataSource', () => {
  it('opens connections with JIT off (a plan over a large log would compile for longer than it runs)', async () => {
    const ds = createDataSource({ url: PG_ADMIN_URL, poolSize: 1, statementTimeoutMs: 5_000 });
    await ds.initialize();
    try {
      expect((await ds.query('SHOW jit'))[0].jit).toBe('off');
      expect((await ds.query('SHOW statement_timeout'))[0].statement_timeout).toBe('5s');
    } finally {
      await ds.destroy();
    }
  });
});
