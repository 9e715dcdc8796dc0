/** IPv4 parsing and CIDR membership: VPN pools (onboarding) and the re-check of route addresses at render (nginx). */
const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4ToInt(ip: string): number | null {
  const m = OCTETS.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  if (m.slice(1).some((p) => p.length > 1 && p.startsWith('0'))) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  text: string;
  base: number;
  mask: number;
}

export function parseCidr(text: string): Cidr {
  const [ip, bitsText] = text.split('/');
  const base = ipv4ToInt(ip);
  const bits = Number(bitsText);
  if (base === null || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`not an IPv4 CIDR: ${text}`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { text, base: (base & mask) >>> 0, mask };
}

/** True when `ip` is a plain dotted IPv4 address inside one of the ranges. */
export function inRanges(ip: string, ranges: readonly Cidr[]): boolean {
  const n = ipv4ToInt(ip);
  return n !== null && ranges.some((r) => (n & r.mask) >>> 0 === r.base);
}
