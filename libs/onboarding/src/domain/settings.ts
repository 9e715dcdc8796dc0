import { isUuid, serviceFqdn } from '@app/common';

/**
 * What a container boots with (docs/design.md wire contracts; the seed's container-functions.sh reads
 * gateway_fqdn, token, user_container_id, project_id and oauth_clients with jq).
 */
export interface ContainerSettings {
  gateway_fqdn: string;
  token: string;
  token_expires_at: string;
  user_container_id: string;
  project_id: string;
  org_id: string;
  image_id: string;
  /** The container's own bare FQDN (routes to its primary service). */
  container_fqdn: string;
  /** host:port of the node's OpenVPN server (the profile from /collab/vpn-config carries it too). */
  vpn_endpoint: string;
  /** The gateway's address inside the VPN (the seed posts events to http://172.16.0.1/...). */
  gateway_vpn_address: string;
  watchdog_interval_s: number;
  oauth_clients: unknown[];
  /** The OpenVPN password (user name: the container id); per container, stored hashed, new with every token. */
  vpn_secret: string;
}

export function buildSettings(
  s: Omit<ContainerSettings, 'container_fqdn' | 'watchdog_interval_s' | 'oauth_clients'> & { domain: string; oauth_clients?: unknown[] },
): {
  settings: ContainerSettings;
  encoded: string;
} {
  const { domain, oauth_clients = [], ...rest } = s;
  const settings: ContainerSettings = {
    ...rest,
    container_fqdn: serviceFqdn({ containerId: s.user_container_id, orgId: s.org_id, domain }),
    watchdog_interval_s: 15,
    oauth_clients,
  };
  return { settings, encoded: Buffer.from(JSON.stringify(settings), 'utf8').toString('base64') };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const IMAGE_REF = /^[a-z0-9][a-z0-9./_:-]{0,254}$/;

/**
 * A `docker run` line for a local machine: OpenVPN needs NET_ADMIN and /dev/net/tun. Every part is
 * allow-listed (UUID, base64, image reference), so nothing needs shell quoting.
 */
export function dockerRunCommand(containerId: string, settingsB64: string, imageRef: string): string {
  if (!isUuid(containerId) || !BASE64.test(settingsB64) || !IMAGE_REF.test(imageRef)) throw new Error('docker run: invalid component');
  return [
    'docker run -d',
    `--name uc-${containerId}`,
    '--restart unless-stopped',
    '--cap-add NET_ADMIN',
    '--device /dev/net/tun',
    `-e SETTINGS=${settingsB64}`,
    imageRef,
  ].join(' ');
}
