import { once } from 'node:events';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
import { withDeadline } from './deadline';

describe('withDeadline', () => {
  it('passes on what settles in time, value or error', async () => {
    await expect(withDeadline(Promise.resolve(7), 50, 'late')).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('no')), 50, 'late')).rejects.toThrow('no');
  });

  it('rejects with the message when the promise is late', async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withDeadline(never, 20, 'Redis did not answer')).rejects.toThrow('Redis did not answer');
  });

  it('a loop stalled past the deadline does not lose an answer that arrived meanwhile', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [serverSide] = (await once(server, 'connection')) as [Socket];
    try {
      const answer = once(client, 'data').then(([b]) => String(b));
      const guarded = withDeadline(answer, 10, 'late');
      serverSide.write('pong');
      // The stall: the answer reaches the socket and the deadline passes while the loop is blocked.
      const until = Date.now() + 60;
      while (Date.now() < until);
      await expect(guarded).resolves.toBe('pong');
    } finally {
      client.destroy();
      serverSide.destroy();
      server.close();
    }
  });
});
