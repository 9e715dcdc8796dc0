import { gatewayAddress, netmask, VpnPool, intToIp } from './vpn-pool';

/** The tun device of a node's OpenVPN server; the packet filter names it. */
export const VPN_DEVICE = 'collabvpn0';
/** Files of a node's directory that server.conf names (relative to it: openvpn runs with --cd there). */
export const SERVER_FILES = {
  conf: 'server.conf',
  cert: 'server.crt',
  key: 'server.key',
  tlsCrypt: 'ta.key',
  ccd: 'ccd',
  authUsers: 'auth-users',
  authScript: 'vpn-auth.sh',
  clients: 'clients',
  ca: '../ca.crt',
  crl: '../crl.pem',
} as const;

export interface ServerConfParts {
  pool: VpnPool;
  port: number;
  proto: 'udp' | 'tcp-client';
}

/**
 * A node's OpenVPN server.conf. Every client is named by its certificate (CN = container id) and
 * must also present user name = CN and its vpn_secret (auth-user-pass-verify); its address is the
 * fixed one of its ccd file, and a client without one is refused (ccd-exclusive). Packets between
 * clients go up to the kernel (no client-to-client), where the node's nftables rules drop them.
 * The management interface (the supervisor's, given on the command line) kills revoked sessions.
 */
export function renderServerConf(p: ServerConfParts): string {
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`server.conf: port ${p.port}`);
  return [
    '# OpenVPN server of this gateway node, rendered by the collab-gateway worker (libs/onboarding). Do not edit.',
    `port ${p.port}`,
    `proto ${p.proto === 'udp' ? 'udp' : 'tcp-server'}`,
    `dev ${VPN_DEVICE}`,
    'dev-type tun',
    'topology subnet',
    `server ${intToIp(p.pool.network)} ${netmask(p.pool)}`,
    `# The gateway's address in the tunnel is ${gatewayAddress(p.pool)}.`,
    `ca ${SERVER_FILES.ca}`,
    `cert ${SERVER_FILES.cert}`,
    `key ${SERVER_FILES.key}`,
    'dh none',
    `tls-crypt ${SERVER_FILES.tlsCrypt}`,
    'tls-version-min 1.2',
    'verify-client-cert require',
    'remote-cert-tls client',
    `crl-verify ${SERVER_FILES.crl}`,
    `client-config-dir ${SERVER_FILES.ccd}`,
    'ccd-exclusive',
    'script-security 2',
    `auth-user-pass-verify ${SERVER_FILES.authScript} via-file`,
    'keepalive 10 60',
    'persist-key',
    'persist-tun',
    ...(p.proto === 'udp' ? ['explicit-exit-notify 1'] : []),
    'verb 3',
    '',
  ].join('\n');
}

/**
 * auth-user-pass-verify (via-file: $1 holds the user name and the password on two lines). Accepts
 * only when the user name is a container id equal to the certificate's CN and the password's
 * SHA-256 is that container's line in auth-users. Runs with the node directory as working directory.
 */
export const AUTH_SCRIPT = `#!/bin/sh
# Rendered by the collab-gateway worker: OpenVPN auth-user-pass-verify (via-file).
set -u
user=$(sed -n 1p "$1")
pass=$(sed -n 2p "$1")
deny() { echo "vpn-auth: refused $user: $1" >&2; exit 1; }
printf '%s' "$user" | grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' || deny "user name is not a container id"
[ "$user" = "\${common_name:-}" ] || deny "user name differs from the certificate CN"
want=$(awk -v u="$user" '$1 == u { print $2 }' ${SERVER_FILES.authUsers})
[ -n "$want" ] || deny "no secret for this container"
got=$(printf '%s' "$pass" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || deny "wrong secret"
exit 0
`;

/** An OpenVPN static key (tls-crypt), 2048 bits as OpenVPN writes it (`openvpn --genkey secret`). */
export function formatStaticKey(bytes: Buffer): string {
  if (bytes.length !== 256) throw new Error('tls-crypt key: 256 bytes');
  const hex = bytes.toString('hex');
  const lines = Array.from({ length: 16 }, (_, i) => hex.slice(i * 32, i * 32 + 32));
  return [
    '#',
    '# 2048 bit OpenVPN static key',
    '#',
    '-----BEGIN OpenVPN Static key V1-----',
    ...lines,
    '-----END OpenVPN Static key V1-----',
    '',
  ].join('\n');
}
