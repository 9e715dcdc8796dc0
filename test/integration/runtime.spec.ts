import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const ROOT = join(__dirname, '../..');
const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };

/** Every installed package's `engines.node` (name@version -> range), nested node_modules included. */
function installedEngines(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.name.startsWith('@')) {
        walk(path);
        continue;
      }
      const manifest = join(path, 'package.json');
      if (existsSync(manifest)) {
        const p = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string; engines?: { node?: unknown } };
        if (p.name && typeof p.engines?.node === 'string' && semver.validRange(p.engines.node))
          found.set(`${p.name}@${p.version}`, p.engines.node);
      }
      walk(join(path, 'node_modules'));
    }
  };
  walk(join(ROOT, 'node_modules'));
  return found;
}

/** The Node.js major of each `FROM node:<major>-...` in a Dockerfile. */
const nodeImages = (dockerfile: string) =>
  [...readFileSync(join(ROOT, dockerfile), 'utf8').matchAll(/^FROM node:(\d+)[-\w.]*/gm)].map((m) => Number(m[1]));

/**
 * The runtime is honest: `engines` accepts the Node.js this suite runs on and the one the images
 * ship, and every installed dependency accepts both (what npm's EBADENGINE warning checks); the
 * gateway image runs a current LTS line (even major, 22 or later).
 */
describe('runtime', () => {
  const engines = installedEngines();
  const images = nodeImages('docker-images/backend-images/gateway/Dockerfile');

  it(`engines (${project.engines.node}) accepts this Node.js (${process.version}), and every dependency does`, () => {
    expect(semver.satisfies(process.version, project.engines.node)).toBe(true);
    expect(engines.size).toBeGreaterThan(50);
    const refusing = [...engines].filter(([, range]) => !semver.satisfies(process.version, range)).map(([p, r]) => `${p} (${r})`);
    expect(refusing).toEqual([]);
  });

  it('the gateway image runs a current LTS that engines and every dependency accept', () => {
    expect(images.length).toBeGreaterThan(0);
    for (const major of images) {
      expect(major % 2 === 0 && major >= 22).toBe(true);
      const line = `^${major}.0.0`;
      expect(semver.subset(line, project.engines.node)).toBe(true);
      const refusing = [...engines].filter(([, range]) => !semver.subset(line, range)).map(([p, r]) => `${p} (${r})`);
      expect([major, refusing]).toEqual([major, []]);
    }
  });
});
