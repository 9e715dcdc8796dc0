import { intToIpv4, ipv4ToInt } from '@app/common';
/**
 * IPv4 pool arithmetic. Host index i is the address network + i: index 0 is the network, 1 the
 * gateway (the VPN server), size-1 the broadcast; containers get 2 .. size-2.
 */
export interface VpnPool {
  network: number;
  prefix: number;
  size: number;
  firstHost: number;
  lastHost: number;
}

export function parsePool(cidr: string): VpnPool {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  const network = ipToInt(ip);
  const size = 2 ** (32 - prefix);
  if (network % size !== 0) throw new Error(`${cidr}: host bits set`);
  return { network, prefix, size, firstHost: 2, lastHost: size - 2 };
}

export function ipToInt(ip: string): number {
  const n = ipv4ToInt(ip);
  if (n === null) throw new Error(`invalid IPv4 ${ip}`);
  return n;
}

export const intToIp = intToIpv4;

export const addressAt = (pool: VpnPool, index: number): string => {
  if (!Number.isInteger(index) || index < pool.firstHost || index > pool.lastHost)
    throw new RangeError(`host index ${index} outside the pool`);
  return intToIp(pool.network + index);
};

export const gatewayAddress = (pool: VpnPool): string => intToIp(pool.network + 1);

export const netmask = (pool: VpnPool): string => intToIp((0xffffffff << (32 - pool.prefix)) >>> 0);

/** Whether `address` is a host address containers may hold in this pool. */
export function isPoolHost(pool: VpnPool, address: string): boolean {
  let n: number;
  try {
    n = ipToInt(address);
  } catch {
    return false;
  }
  const i = n - pool.network;
  return i >= pool.firstHost && i <= pool.lastHost;
}
