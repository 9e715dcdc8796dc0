/**
 * Onboarding, token, VPN and pool events (docs/events.md). The `type` strings are the persisted
 * contract, consumed by the projections: never rename one, never change a data field.
 */
export const REGISTERED = 'user-container:registered';
export const TOKEN_ISSUED = 'user-container:token-issued';
export const DELETED = 'user-container:deleted';
export const VPN_ADDRESS_ASSIGNED = 'user-container:vpn-address-assigned';
export const VPN_ADDRESS_RELEASED = 'user-container:vpn-address-released';
export const CERTIFICATE_ISSUED = 'user-container:certificate-issued';
export const CERTIFICATE_REVOKED = 'user-container:certificate-revoked';
export const NODE_REGISTERED = 'gateway-node:registered';
export const NODE_DRAINED = 'gateway-node:drained';

export const nodeStream = (nodeId: string) => `gateway-node-${nodeId}`;

export interface RegisteredData {
  container_id: string;
  org_id: string;
  project_id: string;
  image_id: string;
  display_name: string;
  gateway_node: string;
}
export interface TokenIssuedData {
  container_id: string;
  token_version: number;
  kid: string;
  expires_at: string;
}
export interface DeletedData {
  container_id: string;
  org_id: string;
  project_id: string;
  reason?: string;
}
export interface VpnAddressAssignedData {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node: string;
  address: string;
}
export interface VpnAddressReleasedData {
  container_id: string;
  address: string;
  /** Absent: released with the container's deletion; `outside-pool`: VPN_POOL_CIDR changed, a new address follows. */
  reason?: 'outside-pool';
}
export interface CertificateIssuedData {
  container_id: string;
  serial: string;
  not_after: string;
}
export interface CertificateRevokedData {
  container_id: string;
  serial: string;
  reason: string;
}

export type LifecycleEvent =
  | { type: typeof REGISTERED; data: RegisteredData }
  | { type: typeof TOKEN_ISSUED; data: TokenIssuedData }
  | { type: typeof DELETED; data: DeletedData }
  | { type: typeof VPN_ADDRESS_ASSIGNED; data: VpnAddressAssignedData }
  | { type: typeof VPN_ADDRESS_RELEASED; data: VpnAddressReleasedData }
  | { type: typeof CERTIFICATE_ISSUED; data: CertificateIssuedData }
  | { type: typeof CERTIFICATE_REVOKED; data: CertificateRevokedData };

export interface NodeRegisteredData {
  node_id: string;
  fqdn: string;
  vpn_endpoint: string;
  capacity: number;
}
export type NodeEvent =
  { type: typeof NODE_REGISTERED; data: NodeRegisteredData } | { type: typeof NODE_DRAINED; data: { node_id: string } };
