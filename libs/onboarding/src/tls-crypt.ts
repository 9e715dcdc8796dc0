import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { contextOf, KeySealer } from '@app/secrets';
import { formatStaticKey } from './domain/server-conf';

/**
 * A node's tls-crypt key (an OpenVPN static key shared by the server and its clients): created
 * once per node, first insert wins, so the gateway (profiles) and the worker (server files) agree.
 * Stored sealed (libs/secrets, context `vpn_tls_crypt_keys:<node>`, a column of VPN_SEALED_COLUMNS);
 * a plaintext row from before sealing opens as is until the start-up step reseals it.
 */
export async function nodeTlsCryptKey(db: Pool, sealer: KeySealer, node: string): Promise<string> {
  const context = contextOf('vpn_tls_crypt_keys', node);
  const read = async (): Promise<string | undefined> =>
    (await db.query(`SELECT key_text FROM vpn_tls_crypt_keys WHERE gateway_node = $1`, [node])).rows[0]?.key_text;
  let stored = await read();
  if (!stored) {
    await db.query(`INSERT INTO vpn_tls_crypt_keys (gateway_node, key_text) VALUES ($1, $2) ON CONFLICT (gateway_node) DO NOTHING`, [
      node,
      await sealer.seal(formatStaticKey(randomBytes(256)), context),
    ]);
    stored = (await read()) as string;
  }
  return KeySealer.isSealed(stored) ? sealer.open(stored, context) : stored;
}
