import { openLive, type LiveState } from './live';
import type { SseMessage } from './sse';

/** A scripted server: each call answers the next response (a stream it controls, or a status). */
function scriptedFetch(answers: ((signal: AbortSignal) => Response)[]) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fake = (async (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string> });
    const next = answers.shift();
    if (!next) return new Promise<Response>(() => undefined);
    return next(init.signal!);
  }) as unknown as typeof fetch;
  return { fake, calls };
}

const stream = (chunks: string[], end: boolean, onAbort?: () => void) => (signal: AbortSignal) => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
      if (end) c.close();
      signal.addEventListener('abort', () => {
        onAbort?.();
        c.error(new DOMException('aborted', 'AbortError'));
      });
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
};

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('live stream client (fetch + SSE parser + backoff)', () => {
  it('sends the token in the header only, reconnects after an end and an error, and reloads after each connection', async () => {
    let aborted = false;
    const { fake, calls } = scriptedFetch([
      stream(['event: health\ndata: {"n":', '1}\n\n'], true),
      () => new Response('busy', { status: 503 }),
      stream([': hello\n\nevent: ping\ndata: {}\n\nevent: health\ndata: {"n":2}\n\n'], false, () => (aborted = true)),
    ]);
    const messages: SseMessage[] = [];
    const states: LiveState['kind'][] = [];
    let opens = 0;
    const live = openLive({
      url: '/containers/events',
      token: () => 'T1',
      fetch: fake,
      backoff: { baseMs: 2, maxMs: 10 },
      onMessage: (m) => messages.push(m),
      onState: (s) => states.push(s.kind),
      onOpen: () => opens++,
      onRefused: () => undefined,
    });
    await until(() => messages.length === 3);
    expect(messages).toEqual([
      { event: 'health', data: '{"n":1}' },
      { event: 'ping', data: '{}' },
      { event: 'health', data: '{"n":2}' },
    ]);
    expect(opens).toBe(2);
    expect(states).toEqual(['connecting', 'live', 'retrying', 'connecting', 'retrying', 'connecting', 'live']);
    expect(calls.map((c) => c.url)).toEqual(['/containers/events', '/containers/events', '/containers/events']);
    expect(calls.every((c) => c.headers.authorization === 'Bearer T1' && c.headers.accept === 'text/event-stream')).toBe(true);
    live.close();
    await until(() => aborted);
  });

  it('stops for good when the token is refused, and does not start without one', async () => {
    const { fake, calls } = scriptedFetch([() => new Response('{}', { status: 401 })]);
    const refused: number[] = [];
    const states: LiveState[] = [];
    openLive({
      url: '/e',
      token: () => 'expired',
      fetch: fake,
      onMessage: () => undefined,
      onState: (s) => states.push(s),
      onOpen: () => undefined,
      onRefused: (s) => refused.push(s),
    });
    await until(() => refused.length === 1);
    expect(refused).toEqual([401]);
    expect(states.at(-1)).toEqual({ kind: 'stopped', reason: 'refused (401)' });

    const none: LiveState[] = [];
    openLive({
      url: '/e',
      token: () => null,
      fetch: fake,
      onMessage: () => undefined,
      onState: (s) => none.push(s),
      onOpen: () => undefined,
      onRefused: () => undefined,
    });
    expect(none).toEqual([{ kind: 'stopped', reason: 'signed out' }]);
    expect(calls).toHaveLength(1);
  });
});
