import { pageEnd, parseJsonPage } from './json-page';

const row = (pos: string, tx: string, receivedAt: string | null = null) => [
  pos,
  tx,
  'watchdog-c',
  1,
  'e',
  'watchdog',
  {},
  receivedAt,
  '2026-11-29T00:00:00.123456+00:00',
];

describe('JSON pages of the log', () => {
  it('parses the events in (transaction_id, global_position) order, numbers compared as numbers', () => {
    const events = parseJsonPage(JSON.stringify([row('900', '99'), row('10', '100'), row('11', '100')]));
    expect(events.map((e) => [e.transactionId, e.globalPosition])).toEqual([
      ['99', '900'],
      ['100', '10'],
      ['100', '11'],
    ]);
    expect(events[0]!.recordedAt.toISOString()).toBe('2026-11-29T00:00:00.123Z');
  });

  it('gives each event the metadata a fold reads, received_at, when it was recorded', () => {
    const events = parseJsonPage(JSON.stringify([row('1', '1', '2026-11-29T00:00:01.000Z'), row('2', '1')]));
    expect(events.map((e) => e.metadata)).toEqual([{ received_at: '2026-11-29T00:00:01.000Z' }, {}]);
  });

  it('refuses a page out of order rather than fold it so', () => {
    expect(() => parseJsonPage(JSON.stringify([row('10', '100'), row('900', '99')]))).toThrow(/out of order at position 900/);
    expect(() => parseJsonPage(JSON.stringify([row('11', '100'), row('10', '100')]))).toThrow(/out of order at position 10/);
    expect(() => parseJsonPage(JSON.stringify([row('11', '100'), row('11', '100')]))).toThrow(/out of order/);
  });

  it('ends a page at its last event, or where it started when empty', () => {
    const after = { transactionId: '5', globalPosition: '7' };
    expect(pageEnd({ page: '[]', n: 0, last: null }, after)).toBe(after);
    expect(pageEnd({ page: '', n: 2, last: ['100', '11'] }, after)).toEqual({ transactionId: '100', globalPosition: '11' });
  });
});
