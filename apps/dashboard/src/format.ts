/** Pure presentation helpers: labels, numbers and times as people read them. */

export const STATUSES = ['starting', 'healthy', 'degraded', 'stale', 'offline'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABEL: Record<Status, string> = {
  starting: 'Starting',
  healthy: 'Healthy',
  degraded: 'Degraded',
  stale: 'Stale',
  offline: 'Offline',
};

export const isStatus = (v: unknown): v is Status => typeof v === 'string' && (STATUSES as readonly string[]).includes(v);

export function percent(ratio: number | null | undefined): string {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)} %` : '–';
}

export function load(v: number | null | undefined, cores?: number | null): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  return cores ? `${v.toFixed(2)} / ${cores} cores` : v.toFixed(2);
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; absolute time beyond a week. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 7 * 86_400) return `${Math.floor(s / 86_400)} d ago`;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** Case-insensitive match of every word of `query` against any of the fields. */
export function matches(query: string, fields: (string | null | undefined)[]): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = fields.filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** The role claim of a JWT, read only to choose what to show (the server decides what is allowed). */
export function roleOf(token: string): string | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const role = (JSON.parse(json) as { role?: unknown }).role;
    return typeof role === 'string' ? role : null;
  } catch {
    return null;
  }
}

/** An audit actor ({type, id}, a string, or nothing) as "operator alice". */
export function actorText(actor: unknown): string {
  if (typeof actor === 'string') return actor;
  if (actor && typeof actor === 'object') {
    const a = actor as { type?: unknown; id?: unknown };
    return [a.type, a.id].filter((x) => typeof x === 'string' && x).join(' ');
  }
  return '';
}
