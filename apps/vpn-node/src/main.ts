import { createServer } from 'node:http';
import { loadVpnNodeConfig } from '@app/config';
import { VpnNodeSupervisor } from '@app/vpn-node';

/**
 * A gateway node's VPN process: supervises OpenVPN and the nftables isolation (libs/vpn-node),
 * and answers /health/live and /health/ready (503 naming what is missing). Runs as root in the
 * network namespace of the node's Stage 2 nginx (the tunnel's addresses must be reachable there).
 */
async function main(): Promise<void> {
  const config = loadVpnNodeConfig();
  const supervisor = new VpnNodeSupervisor(config);
  await supervisor.start();
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/health/live') return json(200, { status: 'ok' });
    if (req.url === '/health/ready') {
      const r = supervisor.report();
      return json(r.ready ? 200 : 503, r);
    }
    json(404, { error: 'not_found' });
  });
  server.listen(config.http.port, config.http.host, () =>
    process.stdout.write(
      `vpn-node: node ${config.nodeId}, files ${config.nodeDir}, health on http://${config.http.host}:${config.http.port}\n`,
    ),
  );
  const stop = () => {
    server.close();
    void supervisor.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`vpn-node: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
