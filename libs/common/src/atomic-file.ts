import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `content` to a new file beside `target` (same directory, so the later rename is atomic),
 * fsyncs it, and returns its path. Nothing is live until `commitCandidate`.
 */
export async function writeCandidate(target: string, content: string | Buffer, mode = 0o644): Promise<string> {
  const candidate = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(candidate, 'wx', mode);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(candidate, { force: true });
    throw err;
  }
  await fh.close();
  return candidate;
}

/** Renames the candidate over the target and fsyncs the directory, so the swap survives a crash. */
export async function commitCandidate(candidate: string, target: string): Promise<void> {
  await rename(candidate, target);
  const dir = await open(dirname(target), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** writeCandidate + commitCandidate: readers see the old bytes or the new, never a mix. */
export async function writeFileAtomic(target: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await commitCandidate(await writeCandidate(target, content, mode), target);
}
