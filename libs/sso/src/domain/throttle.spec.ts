import { lockDelayMs, lockedForMs } from './throttle';

describe('sign-in throttle', () => {
  const p = { maxFailures: 5, baseMs: 1_000, maxMs: 60_000 };

  it('lets the first failures through, then doubles the lock up to the cap', () => {
    expect([0, 1, 4].map((n) => lockDelayMs(n, p))).toEqual([0, 0, 0]);
    expect([5, 6, 7, 8].map((n) => lockDelayMs(n, p))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(lockDelayMs(12, p)).toBe(60_000);
    expect(lockDelayMs(10_000, p)).toBe(60_000);
  });

  it('counts the lock from the last failure', () => {
    expect(lockedForMs(null, 0, p)).toBe(0);
    expect(lockedForMs({ failures: 4, lastAt: 1_000 }, 1_000, p)).toBe(0);
    expect(lockedForMs({ failures: 6, lastAt: 10_000 }, 10_500, p)).toBe(1_500);
    expect(lockedForMs({ failures: 6, lastAt: 10_000 }, 12_000, p)).toBe(0);
  });
});
