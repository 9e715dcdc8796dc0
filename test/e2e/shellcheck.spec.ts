import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const IMAGES = join(ROOT, 'docker-images');

function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return shellScripts(path);
    return name.endsWith('.sh') ? [path] : [];
  });
}

/** Every script the images ship, and the project's setup and CI scripts, pass shellcheck (`npm run lint:shell` runs the same). */
describe('shellcheck', () => {
  // The images' scripts, and the project's own: the setup step, CI's entry point.
  const scripts = [...shellScripts(IMAGES), ...shellScripts(join(ROOT, 'scripts')), join(ROOT, '.ci/run')];

  it('finds the library and every entrypoint', () => {
    expect(scripts.map((s) => relative(ROOT, s))).toEqual(
      expect.arrayContaining(['docker-images/user-images/container-functions.sh', 'scripts/setup.sh', '.ci/run']),
    );
  });

  it.each(scripts.map((s) => [relative(ROOT, s), s]))('%s', (_name, path) => {
    const r = spawnSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', '-P', join(IMAGES, 'user-images'), path], { encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is not installed (apt-get install -y shellcheck): ${r.error.message}`);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
