import { backoffMs, SseParser, type SseMessage } from './sse';

export type LiveState =
  { kind: 'connecting' } | { kind: 'live' } | { kind: 'retrying'; inMs: number; reason: string } | { kind: 'stopped'; reason: string };

export interface LiveOptions {
  url: string;
  token: () => string | null;
  onMessage: (m: SseMessage) => void;
  onState: (s: LiveState) => void;
  /** Called after every (re)connection: the page reloads what it may have missed meanwhile. */
  onOpen: () => void;
  /** 401/403: the token is no good for this stream; no retry. */
  onRefused: (status: number) => void;
  /** Reconnect delays (default: from 1 s, doubling, up to 30 s). */
  backoff?: { baseMs: number; maxMs: number };
  fetch?: typeof fetch;
}

/**
 * The SSE stream read with fetch() (EventSource cannot send an Authorization header, and the token
 * must stay out of URLs), parsed incrementally, reconnecting with jittered exponential backoff
 * that resets once a connection delivered something.
 */
export function openLive(o: LiveOptions): { close: () => void } {
  let closed = false;
  let attempt = 0;
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const retry = (reason: string, advisedMs?: number) => {
    if (closed) return;
    const inMs = Math.max(advisedMs ?? 0, backoffMs(attempt++, Math.random(), o.backoff?.baseMs, o.backoff?.maxMs));
    o.onState({ kind: 'retrying', inMs, reason });
    timer = setTimeout(connect, inMs);
  };

  const connect = async () => {
    if (closed) return;
    const token = o.token();
    if (!token) return o.onState({ kind: 'stopped', reason: 'signed out' });
    controller = new AbortController();
    o.onState({ kind: 'connecting' });
    const parser = new SseParser();
    try {
      const res = await (o.fetch ?? fetch)(o.url, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        credentials: 'omit',
        cache: 'no-store',
        signal: controller.signal,
      });
      if (res.status === 401 || res.status === 403) {
        o.onState({ kind: 'stopped', reason: `refused (${res.status})` });
        return o.onRefused(res.status);
      }
      if (!res.ok || !res.body) return retry(`HTTP ${res.status}`);
      o.onState({ kind: 'live' });
      o.onOpen();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        attempt = 0;
        for (const m of parser.feed(value)) o.onMessage(m);
      }
      retry('the stream ended', parser.retryMs);
    } catch (err) {
      if (closed) return;
      retry((err as Error).name === 'AbortError' ? 'aborted' : 'network error', parser.retryMs);
    }
  };

  void connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}
