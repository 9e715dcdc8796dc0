import type { RawStat, RawSystem } from './events';

/**
 * Parses the free-text stats of a watchdog (docs/design.md: "Stats") into numbers where they parse;
 * anything else is null (unknown). Never throws: the heartbeat matters more than any one stat.
 */
export interface ParsedStats {
  cpu: {
    load1: number | null;
    load5: number | null;
    load15: number | null;
    count: number | null;
    threadsPerCore: number | null;
    model: string | null;
  };
  memory: { freeMb: number | null; totalMb: number | null; usedRatio: number | null };
  disk: { sizeBytes: number | null; usedRatio: number | null };
  network: { pingMs: number | null };
  graphic: { cards: string | null };
}

const num = (v: RawStat | undefined): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*$/.exec(v);
  return m ? Number(m[1]) : null;
};

const text = (v: RawStat | undefined): string | null => {
  if (typeof v !== 'string') return typeof v === 'number' ? String(v) : null;
  const t = v.trim();
  return t ? t : null;
};

/** "0.40, 0.43 " or "0.40 0.43 0.50" -> [0.4, 0.43, null...]. */
export function parseLoad(v: RawStat | undefined): [number | null, number | null, number | null] {
  if (typeof v === 'number') return [Number.isFinite(v) ? v : null, null, null];
  if (typeof v !== 'string') return [null, null, null];
  const parts = v
    .split(/[\s,]+/)
    .filter(Boolean)
    .slice(0, 3)
    .map((p) => num(p));
  return [parts[0] ?? null, parts[1] ?? null, parts[2] ?? null];
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/** `df -h` sizes: "252G", "1.5T", "512M", "100" -> bytes. */
export function parseSize(v: RawStat | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

/** "23.00%" -> 0.23; a bare number is taken as a percentage. */
export function parsePercent(v: RawStat | undefined): number | null {
  const s = typeof v === 'string' ? v.replace('%', '') : v;
  const n = num(s as RawStat);
  return n === null || n < 0 || n > 100 ? null : Math.round(n * 100) / 10_000;
}

/** ping's "rtt min/avg/max/mdev = 0.04/0.05/0.06/0.01 ms" -> 0.05; "12.3 ms" -> 12.3; " ms" -> null. */
export function parsePing(v: RawStat | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const rtt = /=\s*([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))?\s*ms/.exec(v);
  if (rtt) return Number(rtt[2]);
  const single = /^\s*(\d+(?:\.\d+)?)\s*ms\s*$/.exec(v);
  return single ? Number(single[1]) : null;
}

export function parseStats(system: RawSystem | undefined): ParsedStats {
  const s = system ?? {};
  const [load1, load5, load15] = parseLoad(s.cpu?.usage);
  const freeMb = num(s.memory?.free);
  const totalMb = num(s.memory?.total);
  return {
    cpu: { load1, load5, load15, count: num(s.cpu?.count), threadsPerCore: num(s.cpu?.threads_per_core), model: text(s.cpu?.model) },
    memory: {
      freeMb,
      totalMb,
      usedRatio:
        freeMb !== null && totalMb !== null && totalMb > 0 && freeMb <= totalMb
          ? Math.round((1 - freeMb / totalMb) * 10_000) / 10_000
          : null,
    },
    disk: { sizeBytes: parseSize(s.disk?.size), usedRatio: parsePercent(s.disk?.usage) },
    network: { pingMs: parsePing(s.network?.ping_time) },
    graphic: { cards: text(s.graphic?.cards) },
  };
}
