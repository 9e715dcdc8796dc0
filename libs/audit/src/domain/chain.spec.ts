import { compareKeys, GENESIS, nextLink, SealDigest } from './chain';

describe('hash chain', () => {
  it('links depend on every previous hash and their order', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    const ab = nextLink(nextLink(GENESIS, a), b);
    const ba = nextLink(nextLink(GENESIS, b), a);
    expect(ab.equals(ba)).toBe(false);
    expect(ab.equals(nextLink(nextLink(GENESIS, a), b))).toBe(true);
    expect(ab).toHaveLength(32);
  });

  it('orders keys by transaction then position, as numbers not strings', () => {
    expect(compareKeys({ tx: '9', pos: '100' }, { tx: '10', pos: '1' })).toBe(-1);
    expect(compareKeys({ tx: '10', pos: '99999' }, { tx: '10', pos: '301695' })).toBe(-1);
    expect(compareKeys({ tx: '10', pos: '5' }, { tx: '10', pos: '5' })).toBe(0);
  });

  it('a compaction digest changes when a seal is added, dropped or reordered', () => {
    const d = (xs: [string, number][]) => {
      const s = new SealDigest();
      for (const [seq, b] of xs) s.add(seq, Buffer.alloc(32, b));
      return s.digest().toString('hex');
    };
    const base = d([
      ['1', 1],
      ['2', 2],
    ]);
    expect(d([['1', 1]])).not.toBe(base);
    expect(
      d([
        ['2', 2],
        ['1', 1],
      ]),
    ).not.toBe(base);
    expect(
      d([
        ['1', 1],
        ['2', 2],
      ]),
    ).toBe(base);
  });
});
