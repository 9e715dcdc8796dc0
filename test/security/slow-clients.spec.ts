import { connect, Socket } from 'node:net';
import { startTestGateway, TestGateway } from '../support/gateway';
import { eventually } from '../support/stack';

/**
 * Slow clients (slowloris) are cut off by the header and request (body) timeouts, configured
 * short here (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEPALIVE_TIMEOUT_MS), over
 * raw sockets that dribble bytes; other clients are served meanwhile and nothing is stored.
 */
describe('security: slow clients are cut off', () => {
  let gw: TestGateway;
  const port = () => Number(new URL(gw.url).port);

  beforeAll(async () => {
    gw = await startTestGateway('sec_slow', {
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEPALIVE_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  /** Opens a socket, sends `head`, then one byte of `drip` every 100 ms until the server closes it. */
  function dribble(head: string, drip: string) {
    const socket: Socket = connect(port(), '127.0.0.1');
    let received = '';
    let closed = false;
    let i = 0;
    socket.setEncoding('utf8');
    socket.on('data', (d) => (received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearInterval(timer);
    });
    socket.write(head);
    const timer = setInterval(() => {
      if (!closed) socket.write(drip[i++ % drip.length]);
    }, 100);
    return {
      get closed() {
        return closed;
      },
      get received() {
        return received;
      },
      bytesSent: () => i,
      destroy: () => {
        clearInterval(timer);
        socket.destroy();
      },
    };
  }

  const eventCount = async () => Number((await gw.pool.query('SELECT count(*) FROM events')).rows[0].count);

  it('headers that never end: 408 and the connection closed; a normal client is served meanwhile', async () => {
    const slow = dribble('POST /collab/event HTTP/1.1\r\nHost: gw\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    try {
      const c = gw.container();
      expect(
        (await gw.post('/collab/event', { event: { type: 'user-container:watchdog' }, project_id: c.projectId }, c.token)).status,
      ).toBe(202);
      await eventually(async () => slow.closed, 30_000, 50);
      expect(slow.received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      slow.destroy();
    }
  }, 60_000);

  it('a body that trickles in: 408, the connection closed, nothing stored', async () => {
    const c = gw.container();
    const body = JSON.stringify({ event: { type: 'user-container:watchdog' }, project_id: c.projectId });
    const padded = body.padEnd(4000, ' ');
    const before = await eventCount();
    const slow = dribble(
      `POST /collab/event HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${c.token}\r\nContent-Type: application/json\r\nContent-Length: ${padded.length}\r\n\r\n`,
      padded,
    );
    try {
      await eventually(async () => slow.closed, 30_000, 50);
      // Cut off long before the body could have arrived at this pace.
      expect(slow.bytesSent()).toBeLessThan(padded.length);
      expect(slow.received).toMatch(/^HTTP\/1\.1 408/);
      expect(await eventCount()).toBe(before);
    } finally {
      slow.destroy();
    }
  }, 60_000);

  it('an idle keep-alive connection is closed by the server', async () => {
    const socket = connect(port(), '127.0.0.1');
    let received = '';
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (d) => (received += d));
    socket.write('GET /health/live HTTP/1.1\r\nHost: gw\r\n\r\n');
    await eventually(async () => received.includes('"status":"ok"'), 10_000, 20);
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    await eventually(async () => isClosed, 30_000, 50);
    expect(received).toMatch(/^HTTP\/1\.1 200/);
  }, 60_000);
});
