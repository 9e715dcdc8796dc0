/**
 * A decoder for the events one read model takes: a stored event as the member of the read model's
 * union its `type` names, or null for any other type. `data` is taken as written: the store's
 * writers (ingest, the command handlers) validated it against the same contracts, and the read
 * models still re-check every value that reaches a config or a path.
 */
export function eventDecoder<U extends { type: string; data: unknown }>(types: readonly U['type'][]) {
  const known = new Set<string>(types);
  return (e: { type: string; data: unknown }): U | null => (known.has(e.type) ? ({ type: e.type, data: e.data } as U) : null);
}
