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
  proto: 'udp' | 'tcp-client';
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The OpenVPN client profile, CA, certificate and key inline. */
export function renderClientProfile(p: ProfileParts): string {
  const i = p.endpoint.lastIndexOf(':');
  return [
    'client',
    'dev tun',
    `proto ${p.proto}`,
    `remote ${p.endpoint.slice(0, i)} ${p.endpoint.slice(i + 1)}`,
    'resolv-retry infinite',
    'nobind',
    'persist-key',
    'persist-tun',
    'remote-cert-tls server',
    'verb 3',
    `<ca>\n${p.caPem.trim()}\n</ca>`,
    `<cert>\n${p.certPem.trim()}\n</cert>`,
    `<key>\n${p.keyPem.trim()}\n</key>`,
    '',
  ].join('\n');
}
