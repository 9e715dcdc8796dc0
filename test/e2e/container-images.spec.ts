import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Docker cannot run here, so the images are checked by reading them: every COPY source exists
 * in its build context, bases are pinned, tini is PID 1, and each entrypoint maps the port its
 * image exposes under a valid service name. The gateway's Stage 2 nginx.conf passes `nginx -t`.
 */
const ROOT = resolve(__dirname, '../..');
const USER_IMAGES = join(ROOT, 'docker-images/user-images');
const GATEWAY = join(ROOT, 'docker-images/backend-images/gateway');
const SERVICE_RE = /^[a-z][a-z0-9-]{0,21}$/;

interface Instruction {
  op: string;
  args: string;
}
function instructions(dockerfile: string): Instruction[] {
  return readFileSync(dockerfile, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}
const copySources = (ins: Instruction[]) =>
  ins
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1),
    );

describe('reference images', () => {
  const images: [string, string, number][] = [
    ['ubuntu', 'terminal', 7681],
    ['jupyterlab', 'jupyter', 8888],
    ['pgadmin4', 'pgadmin', 5050],
    ['n8n', 'n8n', 5678],
  ];

  it.each(images)('%s: pinned base, tini, COPY sources in the context, maps %s on %d', (dir, service, port) => {
    const ins = instructions(join(USER_IMAGES, dir, 'Dockerfile'));
    const args = Object.fromEntries(ins.filter((i) => i.op === 'ARG').map((i) => i.args.split('=')));
    const from = ins.filter((i) => i.op === 'FROM').map((i) => i.args.replace(/\$\{(\w+)\}/g, (_m, v) => args[v] ?? ''));
    expect(from).toHaveLength(1);
    expect(from[0]).toMatch(/^[\w./-]+:[\w.-]+$/);
    expect(from[0]).not.toMatch(/:latest$/);
    for (const src of copySources(ins)) expect([src, existsSync(join(USER_IMAGES, src))]).toEqual([src, true]);
    expect(copySources(ins)).toEqual(expect.arrayContaining(['container-functions.sh', `${dir}/entrypoint.sh`]));
    const entrypoint = ins.find((i) => i.op === 'ENTRYPOINT')!.args;
    expect(JSON.parse(entrypoint)[0]).toMatch(/\/tini$/);
    expect(ins.find((i) => i.op === 'EXPOSE')!.args).toBe(String(port));

    const script = readFileSync(join(USER_IMAGES, dir, 'entrypoint.sh'), 'utf8');
    expect(service).toMatch(SERVICE_RE);
    expect(script).toMatch(/^\. \/usr\/local\/lib\/container-functions\.sh$/m);
    const order = ['extract_settings', 'vpn_loop &', `map_when_ready ${service} `].map((s) => script.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(script).toMatch(new RegExp(`SERVICES="${service}:(${port}|\\$port)"`));
    expect(script).toMatch(/env -u SETTINGS -u TOKEN|--reset-env/);
    expect(script.trim().split('\n').pop()).toBe('wait_first "$app_pid" "$vpn_loop_pid"');
  });
});

describe('gateway node image', () => {
  const ins = instructions(join(GATEWAY, 'Dockerfile'));

  it('builds the Node apps with nest and runs every role under tini; COPY sources exist from the repository root', () => {
    expect(
      ins
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n'),
    ).toContain('npx nest build gateway');
    for (const src of copySources(ins)) expect([src, existsSync(join(ROOT, src))]).toEqual([src, true]);
    expect(JSON.parse(ins.find((i) => i.op === 'ENTRYPOINT')!.args)).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/gateway-node']);
    const supervisor = readFileSync(join(GATEWAY, 'entrypoint.sh'), 'utf8');
    for (const app of ['gateway', 'worker']) {
      expect(supervisor).toContain(`dist/apps/${app}/src/main.js`);
      expect(existsSync(join(ROOT, `apps/${app}/src/main.ts`))).toBe(true);
    }
  });

  // nginx is part of the test environment (.ci/run installs it).
  it('its Stage 2 nginx.conf and empty map pass nginx -t', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-nginx-'));
    try {
      cpSync(join(GATEWAY, 'nginx/routes.map'), join(dir, 'routes.map'));
      const conf = readFileSync(join(GATEWAY, 'nginx/nginx.conf'), 'utf8')
        .replaceAll('/run/collab-nginx', dir)
        .replaceAll('/etc/nginx/collab/routes.map', join(dir, 'routes.map'))
        .replace('0.0.0.0:8080', '127.0.0.1:0')
        .replace('127.0.0.1:8081', '127.0.0.1:0');
      writeFileSync(join(dir, 'nginx.conf'), conf);
      const r = spawnSync('nginx', ['-e', join(dir, 'error.log'), '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-t'], {
        encoding: 'utf8',
      });
      expect([r.status, r.stderr]).toEqual([0, expect.stringContaining('test is successful')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
