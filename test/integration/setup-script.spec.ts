import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SETUP = join(ROOT, 'scripts/setup.sh');

/**
 * scripts/setup.sh where it cannot install: it stops at once (exit 1) with one message naming what
 * is missing and the command that installs it, and installs nothing. Packages probed by a command
 * are made "missing" with a PATH that holds only bash (all the script itself needs); root without
 * apt-get on that PATH, and a user who is not root (with apt-get there), each get their reason.
 */
describe('setup step (scripts/setup.sh) where it cannot install', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'cgw-setup-bin-'));
    chmodSync(bin, 0o755);
    for (const tool of ['bash'])
      symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const run = (argv: string[], path: string) => {
    const r = spawnSync(argv[0], [...argv.slice(1)], { encoding: 'utf8', env: { PATH: path }, cwd: tmpdir() });
    if (r.error) throw r.error;
    return r;
  };

  /** The one message: what is missing, why it cannot install, the command, the way around. */
  const expectOneMessage = (r: ReturnType<typeof run>, role: string, why: string) => {
    expect([r.status, r.stdout]).toEqual([1, '']);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const missing = new RegExp(`^setup: missing system packages for 'npm ${role}': ([a-z0-9 .+-]+)$`).exec(lines[0]);
    expect(missing).not.toBeNull();
    const packages = missing![1].split(' ');
    // Probed by a command, so missing on this PATH; nginx is probed by its path, so present.
    expect(packages).toEqual(expect.arrayContaining(['openssl', 'curl', 'jq']));
    expect(packages).not.toContain('nginx');
    expect(lines[1]).toBe(`setup: cannot install them here (${why}). Install them with:`);
    expect(lines[2]).toBe(`  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`);
    expect(lines[3]).toBe('setup: or, on a machine set up by other means, run with SETUP_SKIP=1');
  };

  it('as root without apt-get: exit 1, one message naming the packages and the command', () => {
    for (const role of ['start', 'test']) expectOneMessage(run([join(bin, 'bash'), SETUP, role], bin), role, 'no apt-get on this machine');
  });

  it('as a user who is not root: exit 1, the same message with its reason', () => {
    if (process.getuid?.() !== 0) throw new Error('this test switches to user nobody, which needs root (as the test machine runs)');
    const withApt = mkdtempSync(join(tmpdir(), 'cgw-setup-apt-'));
    try {
      chmodSync(withApt, 0o755);
      symlinkSync(join(bin, 'bash'), join(withApt, 'bash'));
      symlinkSync('/bin/true', join(withApt, 'apt-get'));
      const r = run(
        ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', join(withApt, 'bash'), SETUP, 'test'],
        withApt,
      );
      expectOneMessage(r, 'test', 'not root');
    } finally {
      rmSync(withApt, { recursive: true, force: true });
    }
  });

  it('with everything present (this machine, its own PATH) it does nothing and exits 0', () => {
    const r = spawnSync('bash', [SETUP, 'test'], { encoding: 'utf8' });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
  });

  it('refuses an unknown role, and SETUP_SKIP=1 skips it', () => {
    expect(spawnSync('bash', [SETUP, 'deploy'], { encoding: 'utf8' }).status).toBe(2);
    expect(run([join(bin, 'bash'), SETUP, 'test'], bin).status).toBe(1);
    const skipped = spawnSync(join(bin, 'bash'), [SETUP, 'test'], { encoding: 'utf8', env: { PATH: bin, SETUP_SKIP: '1' } });
    expect([skipped.status, skipped.stderr]).toEqual([0, '']);
  });
});
