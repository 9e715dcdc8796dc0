import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastGoodPath, safeSwap, SwapError } from '@app/common';

/** The generic swap on a real filesystem (nginx maps use it; OpenVPN ccd files will). */
describe('safeSwap', () => {
  let dir: string;
  let target: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cgw-swap-'));
    target = join(dir, 'file.conf');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const listing = async () => (await readdir(dir)).sort();

  it('creates, then replaces keeping the last good copy, then skips identical bytes', async () => {
    const calls: string[] = [];
    const steps = {
      validate: async (c: string) => void calls.push(`validate ${await readFile(c, 'utf8')}`),
      activate: async () => void calls.push('activate'),
    };
    expect(await safeSwap(target, 'one', steps)).toEqual({ status: 'swapped', hadPrevious: false });
    expect(await safeSwap(target, 'two', steps)).toEqual({ status: 'swapped', hadPrevious: true });
    expect(await safeSwap(target, 'two', steps)).toEqual({ status: 'unchanged' });
    expect(calls).toEqual(['validate one', 'activate', 'validate two', 'activate']);
    expect(await readFile(target, 'utf8')).toBe('two');
    expect(await readFile(lastGoodPath(target), 'utf8')).toBe('one');
    expect(await listing()).toEqual(['file.conf', 'file.conf.last-good']);
  });

  it('a refused candidate never becomes live and leaves nothing behind', async () => {
    await safeSwap(target, 'good');
    const err = await safeSwap(target, 'bad', { validate: async () => Promise.reject(new Error('nope')) }).catch((e) => e);
    expect(err).toBeInstanceOf(SwapError);
    expect(err).toMatchObject({ stage: 'validate', rolledBack: false });
    expect(await readFile(target, 'utf8')).toBe('good');
    expect(await listing()).toEqual(['file.conf']);
  });

  it('a failed activation puts the old bytes back and activates them again', async () => {
    await safeSwap(target, 'good');
    const seen: string[] = [];
    const activate = async () => {
      const live = await readFile(target, 'utf8');
      seen.push(live);
      if (live === 'new') throw new Error('reload did not take');
    };
    const err = await safeSwap(target, 'new', { activate }).catch((e) => e);
    expect(err).toMatchObject({ stage: 'activate', rolledBack: true });
    expect(seen).toEqual(['new', 'good']);
    expect(await readFile(target, 'utf8')).toBe('good');
  });

  it('clears candidates a killed writer left behind before the next swap', async () => {
    await safeSwap(target, 'good');
    await writeFile(join(dir, '.file.conf.deadbeef.tmp'), 'half');
    await writeFile(join(dir, '.file.conf.last-good.0badf00d.tmp'), 'half');
    await writeFile(join(dir, '.other.conf.deadbeef.tmp'), 'not ours');
    await safeSwap(target, 'next');
    expect(await listing()).toEqual(['.other.conf.deadbeef.tmp', 'file.conf', 'file.conf.last-good']);
  });
});
