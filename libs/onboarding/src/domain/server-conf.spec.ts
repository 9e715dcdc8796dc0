import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_SCRIPT, formatStaticKey, renderServerConf } from './server-conf';
import { parsePool } from './vpn-pool';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('OpenVPN server.conf', () => {
  const conf = renderServerConf({ pool: parsePool('10.213.100.0/24'), port: 1194, proto: 'udp' });
  const lines = conf.split('\n');

  it('names the pool, the files the worker renders and every hardening the issue asks for', () => {
    for (const line of [
      'port 1194',
      'proto udp',
      'dev collabvpn0',
      'topology subnet',
      'server 10.213.100.0 255.255.255.0',
      'ca ../ca.crt',
      'cert server.crt',
      'key server.key',
      'dh none',
      'tls-crypt ta.key',
      'tls-version-min 1.2',
      'verify-client-cert require',
      'crl-verify ../crl.pem',
      'client-config-dir ccd',
      'ccd-exclusive',
      'auth-user-pass-verify vpn-auth.sh via-file',
    ])
      expect(lines).toContain(line);
    expect(conf).not.toMatch(/client-to-client|duplicate-cn|username-as-common-name|^management/m);
    expect(renderServerConf({ pool: parsePool('10.0.0.0/16'), port: 443, proto: 'tcp-client' })).toMatch(/^proto tcp-server$/m);
    expect(() => renderServerConf({ pool: parsePool('10.0.0.0/16'), port: 0, proto: 'udp' })).toThrow();
  });

  it('writes a tls-crypt key as OpenVPN does (256 bytes, 16 lines of hex)', () => {
    const key = formatStaticKey(Buffer.alloc(256, 0xab));
    expect(key).toMatch(/-----BEGIN OpenVPN Static key V1-----\n(ab{31}\n|[ab]{32}\n){16}-----END OpenVPN Static key V1-----\n$/);
    expect(() => formatStaticKey(Buffer.alloc(16))).toThrow();
  });
});

describe('auth-user-pass-verify script (run by sh, as OpenVPN does)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-vpn-auth-'));
  const secret = 'c2VjcmV0LXNlY3JldA';
  const sha = execFileSync('sh', ['-c', `printf '%s' '${secret}' | sha256sum | cut -d' ' -f1`])
    .toString()
    .trim();
  writeFileSync(join(dir, 'vpn-auth.sh'), AUTH_SCRIPT, { mode: 0o755 });
  writeFileSync(join(dir, 'auth-users'), `${ID} ${sha}\n`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const verify = (user: string, pass: string, cn: string) => {
    writeFileSync(join(dir, 'creds'), `${user}\n${pass}\n`);
    try {
      execFileSync('sh', ['vpn-auth.sh', 'creds'], { cwd: dir, env: { PATH: process.env.PATH, common_name: cn }, stdio: 'pipe' });
      return 'accepted';
    } catch (err) {
      return String((err as { stderr: Buffer }).stderr);
    }
  };

  it('accepts user name = certificate CN = container id with its secret, and nothing else', () => {
    expect(verify(ID, secret, ID)).toBe('accepted');
    expect(verify(ID, `${secret}x`, ID)).toMatch(/wrong secret/);
    expect(verify(ID, secret, 'aaaaaaaa-d9cb-469f-a165-70867728950e')).toMatch(/differs from the certificate CN/);
    const other = '1f8fad5b-d9cb-469f-a165-70867728950e';
    expect(verify(other, secret, other)).toMatch(/no secret/);
    expect(verify('../../etc/passwd', secret, '../../etc/passwd')).toMatch(/not a container id/);
    expect(verify(`${ID} x`, secret, `${ID} x`)).toMatch(/not a container id/);
  });
});
