import { createConnection, createServer, Server, Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';

/**
 * A byte pipe between a unix socket and a loopback TCP port, either way. Unix sockets are
 * reachable from every network namespace, so a process inside a test's namespace (nginx) can
 * reach a loopback listener of the host's (the gateway) and back, and no address or route is
 * added to the host for it.
 */
export interface Bridge {
  close(): Promise<void>;
}

function pipe(server: Server, connect: () => Socket): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (inbound) => {
    const outbound = connect();
    open.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  return open;
}

const closer = (server: Server, open: Set<Socket>, path?: string) => async () => {
  open.forEach((s) => s.destroy());
  await new Promise<void>((r) => server.close(() => r()));
  if (path) await rm(path, { force: true });
};

/** Listens on the unix socket `path`; each connection goes to 127.0.0.1:`port`. */
export async function unixToTcp(path: string, port: number): Promise<Bridge> {
  await rm(path, { force: true });
  const server = createServer();
  const open = pipe(server, () => createConnection({ host: '127.0.0.1', port }));
  await new Promise<void>((r) => server.listen(path, () => r()));
  await chmod(path, 0o777); // nginx's workers run unprivileged; connecting needs write permission
  return { close: closer(server, open, path) };
}

/** Listens on 127.0.0.1:`port`; each connection goes to the unix socket `path`. */
export async function tcpToUnix(port: number, path: string): Promise<Bridge> {
  const server = createServer();
  const open = pipe(server, () => createConnection({ path }));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { close: closer(server, open) };
}
