import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { formatStaticKey } from './domain/server-conf';

/**
 * A node's tls-crypt key (an OpenVPN static key shared by the server and its clients): created
 * once per node, first insert wins, so the gateway (profiles) and the worker (server files) agree.
 */
export async function nodeTlsCryptKey(db: Pool, node: string): Promise<string> {
  const read = async () => (await db.query(`SELECT key_text FROM vpn_tls_crypt_keys WHERE gateway_node = $1`, [node])).rows[0]?.key_text;
  const found: string | undefined = await read();
  if (found) return found;
  await db.query(`INSERT INTO vpn_tls_crypt_keys (gateway_node, key_text) VALUES ($1, $2) ON CONFLICT (gateway_node) DO NOTHING`, [
    node,
    formatStaticKey(randomBytes(256)),
  ]);
  return (await read()) as string;
}
