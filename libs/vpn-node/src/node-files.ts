import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a node's OpenVPN server needs from the worker's render before it can start. */
export const REQUIRED_FILES = ['server.conf', 'server.crt', 'server.key', 'ta.key', 'vpn-auth.sh', 'auth-users', '../ca.crt', '../crl.pem'];
const CLIENT_LINE = /^([0-9a-f-]{36}) ([0-9a-f]+)$/;

/** `<container-id> <serial>` lines of the node's `clients` file: who may hold a session, with which certificate. */
export function parseClients(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const hit = CLIENT_LINE.exec(line.trim());
    if (hit) m.set(hit[1], hit[2]);
  }
  return m;
}

/**
 * The sessions to end: a client whose line went (deleted) or whose serial changed (certificate
 * replaced or revoked), and any connected client the current list does not name.
 */
export function sessionsToKill(before: Map<string, string> | undefined, now: Map<string, string>, connected: string[]): string[] {
  const out = new Set<string>();
  for (const [cn, serial] of before ?? []) if (now.get(cn) !== serial) out.add(cn);
  for (const cn of connected) if (!now.has(cn)) out.add(cn);
  return [...out].sort();
}

export async function missingFiles(nodeDir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const f of REQUIRED_FILES) if ((await readFile(join(nodeDir, f)).catch(() => null)) === null) missing.push(f);
  return missing;
}
