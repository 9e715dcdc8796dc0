import { TokenVersionMap, verdictOf } from './token-versions';

describe('container token versions', () => {
  it('accepts a token not behind the current version of a live container', () => {
    expect(verdictOf({ version: 2, deleted: false }, 2)).toBe('ok');
    // Signed after a rotation whose notification has not arrived yet.
    expect(verdictOf({ version: 2, deleted: false }, 3)).toBe('ok');
    expect(verdictOf({ version: 2, deleted: false }, 1)).toBe('revoked');
    expect(verdictOf({ version: 2, deleted: false }, undefined)).toBe('revoked');
    expect(verdictOf({ version: 2, deleted: true }, 2)).toBe('deleted');
    expect(verdictOf(undefined, 1)).toBe('unregistered');
  });

  it('merges monotonically: late or repeated notifications never undo a rotation or a deletion', () => {
    const m = new TokenVersionMap();
    m.apply('c', 3, false);
    m.apply('c', 1, false);
    expect(m.get('c')).toEqual({ version: 3, deleted: false });
    m.apply('c', 0, true);
    m.apply('c', 4, false);
    expect(m.get('c')).toEqual({ version: 4, deleted: true });
  });
});
