import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { createGateway } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createGateway(config);
  await app.listen({ host: config.http.host, port: config.http.port });
  console.log(`[gateway] listening on http://${config.http.host}:${config.http.port} (OpenAPI at /docs, web dashboard at /dashboard/)`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
