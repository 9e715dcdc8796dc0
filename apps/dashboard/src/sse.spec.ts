import { backoffMs, SseParser } from './sse';

describe('SSE parser', () => {
  it('dispatches on a blank line, with event, id and multi-line data', () => {
    const p = new SseParser();
    expect(p.feed('event: health\nid: 42\ndata: {"a":\ndata: 1}\n\n')).toEqual([{ event: 'health', id: '42', data: '{"a":\n1}' }]);
  });

  it('handles chunks split anywhere, CRLF split across chunks, CR-only lines and comments', () => {
    const p = new SseParser();
    const text = ': keep-alive\r\nevent: ping\r\ndata: {}\r\n\r\nevent:health\rdata:x\r\r';
    const got = [];
    for (const ch of text) got.push(...p.feed(ch));
    expect(got).toEqual([
      { event: 'ping', data: '{}' },
      { event: 'health', data: 'x' },
    ]);
  });

  it('defaults the event name to message, dispatches an empty data line, skips a block with no data line, keeps retry advice', () => {
    const p = new SseParser();
    expect(p.feed('retry: 2500\nfoo: bar\n\ndata\n\ndata: hi\n\n')).toEqual([
      { event: 'message', data: '' },
      { event: 'message', data: 'hi' },
    ]);
    expect(p.retryMs).toBe(2500);
  });

  it('keeps an incomplete event until its blank line arrives', () => {
    const p = new SseParser();
    expect(p.feed('event: health\ndata: {"to":"stale"}\n')).toEqual([]);
    expect(p.feed('\n')).toEqual([{ event: 'health', data: '{"to":"stale"}' }]);
  });
});

describe('reconnect backoff', () => {
  it('doubles from the base, is capped, and jitters between half and all of the step', () => {
    expect(backoffMs(0, 1)).toBe(1000);
    expect(backoffMs(0, 0)).toBe(500);
    expect(backoffMs(3, 1)).toBe(8000);
    expect(backoffMs(10, 1)).toBe(30000);
    expect(backoffMs(100, 0)).toBe(15000);
  });
});
