import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { EventStore } from '@app/event-store';
import { Projector } from '@app/projections';
import { AuditKeys, SealProjection } from '@app/audit';
import { eventually } from './eventually';

const ROOT = join(__dirname, '../..');

/** A fresh Ed25519 key as AUDIT_SIGNING_KEY takes it. */
export function newSigningKey(): { pem: string; keys: AuditKeys } {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { pem, keys: AuditKeys.fromPem(pem) };
}

/** Runs the sealer until every committed event has a seal, then stops it. */
export async function sealAll(pool: Pool, store: EventStore, keys: AuditKeys, checkpointEvery = 500): Promise<void> {
  const sealer = new Projector(pool, store, new SealProjection(keys, { checkpointEvery, checkpointIntervalS: 3600 }), {
    owner: 'test-sealer',
    batchSize: 700,
    pollMs: 10,
    leaseMs: 10_000,
  });
  await sealer.start();
  try {
    const counts = async () =>
      (
        await pool.query(
          `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM audit_seals WHERE compaction_id IS NULL)::int AS seals`,
        )
      ).rows[0] as { events: number; seals: number };
    await eventually(
      async () => {
        const c = await counts();
        return c.seals >= c.events;
      },
      120_000,
      50,
      async () => `sealer caught up (${JSON.stringify(await counts())})`,
    );
  } finally {
    await sealer.stop();
  }
}

/** `npm run ops -- <args>` from the sources (a child process), with its exit code and output. */
export function ops(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'apps/ops/src/main.ts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
