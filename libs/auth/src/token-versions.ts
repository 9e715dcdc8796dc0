/**
 * Container token revocation without a database round trip per request.
 *
 * Every process keeps the current token version of every onboarded container in memory. The
 * source (see libs/onboarding, ContainerTokenFeed) loads the whole table at start and then
 * applies changes pushed by PostgreSQL NOTIFY, which is delivered when the rotating or deleting
 * transaction commits. While the feed is not known to be complete (before the first load, or after
 * the listening connection dropped and until it has reloaded), `check` returns undefined and the
 * caller asks the database instead: a lost notification can never let a revoked token through.
 */
export const TOKEN_VERSIONS = Symbol('TOKEN_VERSIONS');

export interface ContainerTokenState {
  /** Tokens whose `tv` is below this are revoked. */
  version: number;
  deleted: boolean;
}

export type TokenVerdict = 'ok' | 'revoked' | 'deleted' | 'unregistered';

export interface TokenVersionSource {
  /** The verdict from memory, or undefined when memory cannot be trusted right now. */
  check(containerId: string, tokenVersion: number | undefined): TokenVerdict | undefined;
  /** The verdict from the database (slow path, only while memory is not in sync). */
  checkFromDatabase(containerId: string, tokenVersion: number | undefined): Promise<TokenVerdict>;
}

/** The pure rule: a token is good while its version is not behind and the container lives. */
export function verdictOf(state: ContainerTokenState | undefined, tokenVersion: number | undefined): TokenVerdict {
  if (!state) return 'unregistered';
  if (state.deleted) return 'deleted';
  // A version ahead of ours is a token signed after a rotation whose notification is still on its way.
  if (tokenVersion === undefined || tokenVersion < state.version) return 'revoked';
  return 'ok';
}

/** The in-memory map; merges are monotonic (versions only rise, deletion is final) so order never matters. */
export class TokenVersionMap {
  private readonly states = new Map<string, ContainerTokenState>();

  get size(): number {
    return this.states.size;
  }

  get(containerId: string): ContainerTokenState | undefined {
    return this.states.get(containerId);
  }

  apply(containerId: string, version: number, deleted: boolean): void {
    const cur = this.states.get(containerId);
    if (!cur) this.states.set(containerId, { version, deleted });
    else this.states.set(containerId, { version: Math.max(cur.version, version), deleted: cur.deleted || deleted });
  }
}
