import { isUuid } from '@app/common';
import { isPoolHost, VpnPool, netmask } from './vpn-pool';

export const NODE_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** One line per client: OpenVPN's client-config-dir file, named by the certificate's CN. */
export function renderCcd(pool: VpnPool, address: string): string {
  if (!isPoolHost(pool, address)) throw new Error(`ccd: ${JSON.stringify(address)} is not a host of the pool`);
  return `ifconfig-push ${address} ${netmask(pool)}\n`;
}

/**
 * The file name of a client's ccd file, or null when the id must never become a path. Only a
 * lower-case UUID passes: no separators, no dots, no NUL, nothing OpenVPN would read differently.
 */
export function ccdFileName(containerId: unknown): string | null {
  return isUuid(containerId) ? containerId : null;
}

export function nodeDirName(nodeId: unknown): string | null {
  return typeof nodeId === 'string' && NODE_ID_RE.test(nodeId) ? nodeId : null;
}

export interface ProfileParts {
  endpoint: string;
  /** The node's FQDN: the server certificate's CN, checked by the client (verify-x509-name). */
  serverName: string;
  proto: 'udp' | 'tcp-client';
  caPem: string;
  certPem: string;
  keyPem: string;
  tlsCryptKey: string;
}

/** The file names of the seed contract's `certificates` object (written into the client's working directory). */
export const CLIENT_FILES = { ca: 'ca.crt', cert: 'client.crt', key: 'client.key', tlsCrypt: 'ta.key' } as const;

function splitEndpoint(endpoint: string): { host: string; port: string } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: endpoint.slice(i + 1) };
}

const commonLines = (p: ProfileParts, remoteHost: string) => [
  'client',
  'dev tun',
  `proto ${p.proto}`,
  `remote ${remoteHost} ${splitEndpoint(p.endpoint).port}`,
  'resolv-retry infinite',
  'nobind',
  'persist-key',
  'persist-tun',
  'remote-cert-tls server',
  // A container's first connection may beat the node's render of its files by a moment: retry.
  'auth-retry nointeract',
  `verify-x509-name ${p.serverName} name`,
  'tls-version-min 1.2',
  'verb 3',
];

/** The OpenVPN client profile, CA, certificate, key and tls-crypt key inline (Accept: application/x-openvpn-profile). */
export function renderClientProfile(p: ProfileParts): string {
  return [
    ...commonLines(p, splitEndpoint(p.endpoint).host),
    `<ca>\n${p.caPem.trim()}\n</ca>`,
    `<cert>\n${p.certPem.trim()}\n</cert>`,
    `<key>\n${p.keyPem.trim()}\n</key>`,
    `<tls-crypt>\n${p.tlsCryptKey.trim()}\n</tls-crypt>`,
    '',
  ].join('\n');
}

/**
 * The seed client's JSON (`GET /collab/vpn-config` by default): each entry of `certificates` is
 * written to a file of that name, the literal GATEWAY_FQDN in `config` is replaced by the host of
 * the container's gateway_fqdn, then `auth-user-pass` and `auth-nocache` are appended. The remote
 * is the literal only when the node's VPN endpoint is on its FQDN; otherwise the endpoint's host.
 */
export function renderClientJson(p: ProfileParts): { certificates: Record<string, string>; config: string } {
  const { host } = splitEndpoint(p.endpoint);
  const remote = host === p.serverName ? 'GATEWAY_FQDN' : host;
  return {
    certificates: {
      [CLIENT_FILES.ca]: `${p.caPem.trim()}\n`,
      [CLIENT_FILES.cert]: `${p.certPem.trim()}\n`,
      [CLIENT_FILES.key]: `${p.keyPem.trim()}\n`,
      [CLIENT_FILES.tlsCrypt]: `${p.tlsCryptKey.trim()}\n`,
    },
    config: [
      ...commonLines(p, remote),
      `ca ${CLIENT_FILES.ca}`,
      `cert ${CLIENT_FILES.cert}`,
      `key ${CLIENT_FILES.key}`,
      `tls-crypt ${CLIENT_FILES.tlsCrypt}`,
      '',
    ].join('\n'),
  };
}
