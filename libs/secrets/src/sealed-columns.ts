import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { KeySealer } from './sealer';

/** A text column holding sealed private keys; `context` of a row is `<table>:<id>`. */
export interface SealedColumn {
  table: string;
  id: string;
  column: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const BATCH = 500;

export const contextOf = (table: string, id: string | number) => `${table}:${id}`;

/**
 * Brings a column up to date in place: plaintext keys (rows written before sealing existed) are
 * sealed, values under an old KEK are re-wrapped under the active one. Each row is replaced with a
 * compare-and-set on its old value, so processes starting at once neither lose nor double-seal a
 * key. Returns how many rows changed.
 */
export async function resealColumn(pool: Pool, sealer: KeySealer, c: SealedColumn): Promise<number> {
  for (const name of [c.table, c.id, c.column]) if (!IDENT.test(name)) throw new Error(`bad identifier ${name}`);
  const current = `sealed:v1:${sealer.wrapper.activeId}:%`;
  let changed = 0;
  let after = '';
  for (;;) {
    const { rows } = await pool.query(
      `SELECT ${c.id}::text AS id, ${c.column} AS value FROM ${c.table}
       WHERE ${c.column} NOT LIKE $1 AND ${c.id}::text > $2 ORDER BY ${c.id}::text LIMIT ${BATCH}`,
      [current, after],
    );
    for (const row of rows as { id: string; value: string }[]) {
      const next = await sealer.reseal(row.value, contextOf(c.table, row.id));
      const res = await pool.query(`UPDATE ${c.table} SET ${c.column} = $1 WHERE ${c.id}::text = $2 AND ${c.column} = $3`, [
        next,
        row.id,
        row.value,
      ]);
      changed += res.rowCount ?? 0;
    }
    if (rows.length < BATCH) return changed;
    after = rows[rows.length - 1].id;
  }
}

/** Named secrets (the OpenID provider's keys, ACME accounts, ...) kept sealed in `sealed_secrets`. */
export class SealedSecrets {
  static readonly column: SealedColumn = { table: 'sealed_secrets', id: 'name', column: 'value' };

  constructor(
    private readonly pool: Pool,
    private readonly sealer: KeySealer,
  ) {}

  /** The secret called `name`; the first process to ask creates it with `generate` (first insert wins). */
  async getOrCreate(name: string, generate: () => string | Promise<string>): Promise<string> {
    let row = (await this.pool.query(`SELECT value FROM sealed_secrets WHERE name = $1`, [name])).rows[0];
    if (!row) {
      const sealed = await this.sealer.seal(await generate(), contextOf('sealed_secrets', name));
      await this.pool.query(`INSERT INTO sealed_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, sealed]);
      row = (await this.pool.query(`SELECT value FROM sealed_secrets WHERE name = $1`, [name])).rows[0];
    }
    return this.sealer.open(row.value, contextOf('sealed_secrets', name));
  }

  /** Replaces the secret (a rotation); the next getOrCreate everywhere returns it. */
  async put(name: string, value: string): Promise<void> {
    const sealed = await this.sealer.seal(value, contextOf('sealed_secrets', name));
    await this.pool.query(
      `INSERT INTO sealed_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [name, sealed],
    );
  }
}

const CANARY = 'kek-check';

/**
 * At start: the KEK must open what the database holds (a canary sealed on the first start, and
 * every other sealed secret), else a ConfigError naming KEY_ENCRYPTION_KEYS; then every registered
 * column is resealed (plaintext rows migrate, old-KEK rows move to the active KEK).
 */
export async function prepareSealedKeys(pool: Pool, sealer: KeySealer, columns: SealedColumn[]): Promise<Record<string, number>> {
  const secrets = new SealedSecrets(pool, sealer);
  await secrets.getOrCreate(CANARY, () => randomBytes(16).toString('hex'));
  // One value under each KEK the database uses must open: a wrong key is named now, not at first use.
  const { rows } = await pool.query(
    `SELECT DISTINCT ON (kek) kek, name, value FROM (SELECT split_part(value, ':', 3) AS kek, name, value FROM sealed_secrets) s ORDER BY kek, name`,
  );
  for (const r of rows) if (KeySealer.isSealed(r.value)) await sealer.open(r.value, contextOf('sealed_secrets', r.name));
  const changed: Record<string, number> = {};
  for (const c of [SealedSecrets.column, ...columns]) changed[`${c.table}.${c.column}`] = await resealColumn(pool, sealer, c);
  return changed;
}
