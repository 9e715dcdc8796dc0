import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Pool } from 'pg';

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number },
) => Promise<Buffer>;

/** A platform user as the provider knows it (the ID token's sub, email and name). */
export interface Account {
  userId: string;
  email: string;
  name: string;
}

/**
 * Who the users are, and how they prove it. The provider and the guard only ever see this
 * interface: the platform's own users (events + a password kept outside the log) implement it
 * here; an upstream identity provider would be another implementation behind the same token.
 */
export interface UserDirectory {
  /** The account these credentials belong to, or null (same work whether or not the login exists). */
  authenticate(login: string, password: string): Promise<Account | null>;
  find(userId: string): Promise<Account | null>;
}
export const USER_DIRECTORY = Symbol('USER_DIRECTORY');

const N = 16384;
const R = 8;
const P = 1;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(expected, actual);
}

// Verified when the login is unknown, so both answers take the same time.
let dummy: Promise<string> | undefined;

/** The platform's users: `platform-user:registered` events (read model access_users) and sso_credentials. */
export class PlatformUserDirectory implements UserDirectory {
  constructor(private readonly pool: Pool) {}

  async authenticate(login: string, password: string): Promise<Account | null> {
    const { rows } = await this.pool.query(
      `SELECT u.user_id::text AS user_id, u.email, u.name, c.scrypt
         FROM access_users u JOIN sso_credentials c ON c.user_id = u.user_id
        WHERE lower(u.email) = lower($1) LIMIT 2`,
      [login],
    );
    // Two users under one email cannot sign in by email: refused rather than guessed.
    const row = rows.length === 1 ? rows[0] : undefined;
    const ok = await verifyPassword(row?.scrypt ?? (await (dummy ??= hashPassword(randomBytes(16).toString('hex')))), password);
    return row && ok ? { userId: row.user_id, email: row.email, name: row.name } : null;
  }

  async find(userId: string): Promise<Account | null> {
    const { rows } = await this.pool.query(`SELECT user_id::text AS user_id, email, name FROM access_users WHERE user_id::text = $1`, [
      userId,
    ]);
    return rows[0] ? { userId: rows[0].user_id, email: rows[0].email, name: rows[0].name } : null;
  }
}
