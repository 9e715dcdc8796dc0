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
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 ${ip}`);
  return ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export const addressAt = (pool: VpnPool, index: number): string => {
  if (!Number.isInteger(index) || index < pool.firstHost || index > pool.lastHost) throw new RangeError(`host index ${index} outside the pool`);
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
