import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDevEnv } from './cli';

describe('ops in development reads what npm start derived (DATA_DIR/dev.env)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-devenv-'));
  writeFileSync(join(dir, 'dev.env'), '# written by npm start\nNGINX_MAP_PATH=/x/routes.map\nVPN_POOL_CIDR=127.77.0.0/16\nnot a line\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the derived settings under what the shell sets', () => {
    const env = withDevEnv({ DATA_DIR: dir, VPN_POOL_CIDR: '10.9.0.0/16' });
    expect(env.NGINX_MAP_PATH).toBe('/x/routes.map');
    expect(env.VPN_POOL_CIDR).toBe('10.9.0.0/16');
  });

  it('reads nothing outside development, or when npm start wrote nothing', () => {
    expect(withDevEnv({ DATA_DIR: dir, NODE_ENV: 'test' }).NGINX_MAP_PATH).toBeUndefined();
    expect(withDevEnv({ DATA_DIR: dir, NODE_ENV: 'production' }).NGINX_MAP_PATH).toBeUndefined();
    expect(withDevEnv({ DATA_DIR: join(dir, 'none') }).NGINX_MAP_PATH).toBeUndefined();
  });
});
