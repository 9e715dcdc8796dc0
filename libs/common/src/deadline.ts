/**
 * `p`, or a rejection with `message` when it has not settled within `ms`. A stalled event loop
 * (a long GC pause, a starved CPU) does not count against `p`: when the timer fires, an answer
 * that already arrived on its socket is read first (the poll phase runs between the timers phase
 * and setImmediate), so only an answer that is really late loses.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!settled) reject(new Error(message));
        }),
      ms,
    ).unref();
    p.then(
      (v) => {
        settled = true;
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
