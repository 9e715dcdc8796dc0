import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { commitCandidate, writeCandidate } from './atomic-file';

/** Which step of a swap failed; the live file is the last good one again when this is thrown. */
export class SwapError extends Error {
  constructor(
    readonly stage: 'write' | 'validate' | 'activate' | 'rollback',
    message: string,
    readonly rolledBack: boolean,
  ) {
    super(`${stage}: ${message}`);
    this.name = 'SwapError';
  }
}

export interface SwapSteps {
  /** Checks the candidate at its own path (e.g. `nginx -t` on a config that includes it). */
  validate?(candidate: string): Promise<void>;
  /** Makes the now-live file take effect and confirms it did (reload + check). Also run after a rollback. */
  activate?(): Promise<void>;
  /** Test seam: runs after the candidate is written and validated, before the rename. */
  beforeCommit?(candidate: string): Promise<void>;
}

export type SwapOutcome = { status: 'unchanged' } | { status: 'swapped'; hadPrevious: boolean };

/** `target.last-good`: a copy of the bytes that were live before the latest swap. */
export const lastGoodPath = (target: string) => `${target}.last-good`;

/**
 * Replaces `target` with `content` so that it is never live unless it validated and activated:
 * unchanged bytes -> nothing; candidate beside the target (fsynced) -> validate -> keep the old
 * bytes as last-good -> rename -> activate; on an activation failure the old bytes go back and
 * are activated again. Callers serialise swaps of one target (one render per node).
 * Generic on purpose: nginx maps and OpenVPN client files both go through it.
 */
export async function safeSwap(target: string, content: string | Buffer, steps: SwapSteps = {}, mode = 0o644): Promise<SwapOutcome> {
  const next = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const previous = await readFile(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (previous && previous.equals(next)) return { status: 'unchanged' };
  await removeStaleCandidates(target);

  let candidate: string;
  try {
    candidate = await writeCandidate(target, next, mode);
  } catch (err) {
    throw new SwapError('write', (err as Error).message, false);
  }
  try {
    await steps.validate?.(candidate);
  } catch (err) {
    await rm(candidate, { force: true });
    throw new SwapError('validate', (err as Error).message, false);
  }
  if (previous) await commitCandidate(await writeCandidate(lastGoodPath(target), previous, mode), lastGoodPath(target));
  await steps.beforeCommit?.(candidate);
  await commitCandidate(candidate, target);
  try {
    await steps.activate?.();
  } catch (err) {
    const reason = (err as Error).message;
    try {
      if (previous) await commitCandidate(await writeCandidate(target, previous, mode), target);
      else await rm(target, { force: true });
      await steps.activate?.();
    } catch (again) {
      throw new SwapError('rollback', `${reason}; then rollback failed: ${(again as Error).message}`, false);
    }
    throw new SwapError('activate', reason, true);
  }
  return { status: 'swapped', hadPrevious: previous !== null };
}

/** Candidates left by a process killed mid-swap (`.name.<hex>.tmp`); only called under the swap's lock. */
export async function removeStaleCandidates(target: string): Promise<number> {
  const dir = dirname(target);
  const pattern = new RegExp(`^\\.${escape(basename(target))}(\\.last-good)?\\.[0-9a-f]{8}\\.tmp$`);
  const names = (await readdir(dir)).filter((n) => pattern.test(n));
  await Promise.all(names.map((n) => rm(join(dir, n), { force: true })));
  return names.length;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
