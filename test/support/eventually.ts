/** Thrown from inside an `eventually` check to stop waiting at once (a process exited, say). */
export class StopWaiting extends Error {}

/**
 * The one way a spec waits for something asynchronous: calls `fn` every `everyMs` until it
 * returns a truthy value (returned) or `timeoutMs` passed (an error naming `what` and the last
 * error `fn` threw). A StopWaiting thrown by `fn` ends the wait at once.
 */
export async function eventually<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 25,
  what: string | (() => string | Promise<string>) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const name = typeof what === 'string' ? what : await what();
      throw new Error(`${name} not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
