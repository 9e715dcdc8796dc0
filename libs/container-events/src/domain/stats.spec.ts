import { parseLoad, parsePercent, parsePing, parseSize, parseStats } from './stats';

describe('parseStats (free text from shell tools)', () => {
  it('parses the body captured from the seed script', () => {
    expect(
      parseStats({
        cpu: { usage: '0.40, 0.43 ', count: '2', threads_per_core: '1', model: 'AMD EPYC' },
        memory: { free: 23665, total: 24105 },
        disk: { size: '252G', usage: '23.00%' },
        network: { ping_time: ' ms' },
        graphic: { cards: '' },
      }),
    ).toEqual({
      cpu: { load1: 0.4, load5: 0.43, load15: null, count: 2, threadsPerCore: 1, model: 'AMD EPYC' },
      memory: { freeMb: 23665, totalMb: 24105, usedRatio: 0.0183 },
      disk: { sizeBytes: 252 * 1024 ** 3, usedRatio: 0.23 },
      network: { pingMs: null },
      graphic: { cards: null },
    });
  });

  it('keeps unknown what does not parse, and never throws', () => {
    const s = parseStats({ cpu: { usage: 'n/a', count: 'two' }, memory: { free: 'lots', total: 0 }, disk: { size: '12Q', usage: '140%' } });
    expect(s.cpu).toMatchObject({ load1: null, count: null });
    expect(s.memory).toEqual({ freeMb: null, totalMb: 0, usedRatio: null });
    expect(s.disk).toEqual({ sizeBytes: null, usedRatio: null });
    expect(() => parseStats(undefined)).not.toThrow();
  });

  it.each([
    ['0.40, 0.43 ', [0.4, 0.43, null]],
    ['0.1 0.2 0.3', [0.1, 0.2, 0.3]],
    ['', [null, null, null]],
  ])('load %j', (input, out) => expect(parseLoad(input)).toEqual(out));

  it.each([
    ['252G', 252 * 1024 ** 3],
    ['1.5T', 1.5 * 1024 ** 4],
    ['512M', 512 * 1024 ** 2],
    ['100', 100],
    ['20GiB', 20 * 1024 ** 3],
    ['big', null],
  ])('size %j', (input, out) => expect(parseSize(input)).toBe(out));

  it.each([
    ['23.00%', 0.23],
    ['7%', 0.07],
    ['101%', null],
    ['x%', null],
  ])('percent %j', (input, out) => expect(parsePercent(input)).toBe(out));

  it.each([
    ['rtt min/avg/max/mdev = 0.041/0.052/0.063/0.010 ms', 0.052],
    ['12.5 ms', 12.5],
    [' ms', null],
    [3, 3],
  ])('ping %j', (input, out) => expect(parsePing(input)).toBe(out));
});
