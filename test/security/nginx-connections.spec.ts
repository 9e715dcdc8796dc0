import { spawn, ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, NGINX_BIN, startTestNginx, TestNginx, viaNginx } from '../support/nginx';
import { eventually } from '../support/stack';

jest.setTimeout(120_000);

/**
 * nginx sized for terminals: a few thousand connections that send nothing (or half a header, as a
 * slowloris does) must not starve a real request. Before: `worker_processes 1` and
 * `worker_connections 1024`, so 1,100 idle connections took every slot and the next request hung.
 * Checked on the rendered Stage 2 conf and on the gateway image's shipped nginx.conf.
 */
const IDLE = 3_000;
const GATEWAY_IMAGE = join(__dirname, '../../docker-images/backend-images/gateway');

async function openIdle(port: number, n: number): Promise<{ sockets: Socket[]; closed: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, (_, j) => {
        return new Promise<void>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port }, () => {
            // Every other one sends half a request header and stops: nginx waits for the rest.
            if ((i + j) % 2) s.write('GET / HTTP/1.1\r\nHost: idle.example\r\n');
            resolve();
          });
          s.on('error', reject);
          s.on('close', () => closed++);
          sockets.push(s);
        });
      }),
    );
  }
  return { sockets, closed: () => closed };
}

async function starvedOrServed(port: number): Promise<{ status: number; body: string }> {
  return viaNginx({ port } as TestNginx, 'nobody.example');
}

function expectServedWhileIdle(port: () => number) {
  it(`answers a real request while ${IDLE} idle connections are open`, async () => {
    const idle = await openIdle(port(), IDLE);
    try {
      // Give nginx time to accept them all (the workers take them off the backlog).
      await new Promise((r) => setTimeout(r, 1_000));
      const res = await starvedOrServed(port());
      // An unknown host is answered by nginx itself: the worker had a slot for it.
      expect(res.status).toBe(503);
      expect(res.body).toContain('unknown_host');
      // And nginx kept the idle ones (none was dropped to make room) while within client_header_timeout.
      expect(idle.closed()).toBe(0);
    } finally {
      for (const s of idle.sockets) s.destroy();
    }
  });
}

describe('nginx: idle connections do not starve real requests', () => {
  describe('the rendered Stage 2 conf', () => {
    let nginx: TestNginx;
    beforeAll(async () => {
      nginx = await startTestNginx('idle');
    });
    afterAll(async () => {
      await nginx?.stop();
    });

    it('is sized for long-lived connections and closes idle header waits', () => {
      const conf = readFileSync(nginx.conf, 'utf8');
      expect(conf).toMatch(/^worker_processes auto;$/m);
      expect(Number(/worker_connections (\d+);/.exec(conf)![1])).toBeGreaterThanOrEqual(8192);
      expect(Number(/worker_rlimit_nofile (\d+);/.exec(conf)![1])).toBeGreaterThanOrEqual(2 * 8192);
      expect(conf).toMatch(/client_header_timeout \d+s;/);
      expect(conf).toMatch(/keepalive_timeout \d+s;/);
    });

    expectServedWhileIdle(() => nginx.port);
  });

  describe("the gateway image's shipped nginx.conf", () => {
    let dir: string;
    let child: ChildProcess;
    let port: number;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cgw-nginx-image-'));
      port = await freePort();
      const statusPort = await freePort();
      cpSync(join(GATEWAY_IMAGE, 'nginx/routes.map'), join(dir, 'routes.map'));
      const conf = readFileSync(join(GATEWAY_IMAGE, 'nginx/nginx.conf'), 'utf8')
        .replaceAll('/run/collab-nginx', dir)
        .replaceAll('/etc/nginx/collab/routes.map', join(dir, 'routes.map'))
        .replaceAll('0.0.0.0:8080', `127.0.0.1:${port}`)
        .replaceAll('127.0.0.1:8081', `127.0.0.1:${statusPort}`);
      writeFileSync(join(dir, 'nginx.conf'), conf);
      child = spawn(NGINX_BIN, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      await eventually(() => fetch(`http://127.0.0.1:${statusPort}/collab/routes-hash`).then((r) => r.ok), 10_000, 50).catch((err) => {
        throw new Error(`${(err as Error).message}; nginx: ${stderr} ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      });
    });
    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    expectServedWhileIdle(() => port);
  });
});
