import { declaredHash } from './render-map';
import type { SkippedRow } from './route';

/** One route (map entry): the host nginx matches and the value it maps to. */
export interface RouteEntry {
  host: string;
  value: string;
}

/** What a render would change against what nginx serves: entries added, removed and changed, by host name. */
export interface RouteDiff {
  added: RouteEntry[];
  removed: RouteEntry[];
  changed: { host: string; from: string; to: string }[];
}

/** How the next render compares with what one node's nginx serves now (`ops render --diff`). */
export interface RenderDiff extends RouteDiff {
  node: string;
  stage: 'stage1' | 'stage2';
  served: {
    /** live: nginx's shared dict (live routes); map-file: the rendered map nginx loaded. */
    source: 'live' | 'map-file';
    routes: number;
    /** live: the set hash nginx keeps; map-file: the hash the file declares. */
    hash: string | null;
    generation?: number;
    /** Whether nginx confirms it serves exactly these entries (its reported hash equals theirs). */
    confirmed: boolean;
    note?: string;
  };
  next: { routes: number; hash: string; skipped: SkippedRow[] };
}

/** The entries of the `map $host ...` block of a rendered map file (renderMapFile's format) and the hash it declares. */
export function parseMapFile(text: string): { hash: string | null; entries: Map<string, string> } {
  const hash = declaredHash(text);
  const entries = new Map<string, string>();
  const start = text.indexOf('map $host ');
  if (start < 0) return { hash, entries };
  const end = text.indexOf('\n}\n', start);
  for (const line of text.slice(start, end < 0 ? undefined : end).split('\n')) {
    // Host names always hold a dot; `default` and `hostnames` never do.
    const m = /^ {4}([a-z0-9-]+\.[a-z0-9.-]+) "([^"]*)";$/.exec(line);
    if (m) entries.set(m[1]!, m[2]!);
  }
  return { hash, entries };
}

/** What turns `served` into `next`, each list sorted by host name. */
export function diffMapEntries(served: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): RouteDiff {
  const added: RouteEntry[] = [];
  const removed: RouteEntry[] = [];
  const changed: RouteDiff['changed'] = [];
  for (const [host, value] of next) {
    const old = served.get(host);
    if (old === undefined) added.push({ host, value });
    else if (old !== value) changed.push({ host, from: old, to: value });
  }
  for (const [host, value] of served) if (!next.has(host)) removed.push({ host, value });
  const byHost = (a: { host: string }, b: { host: string }) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
  return { added: added.sort(byHost), removed: removed.sort(byHost), changed: changed.sort(byHost) };
}
