import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { createWorker } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createWorker(config);
  await app.listen({ host: config.http.host, port: config.worker.httpPort });
  console.log(`[worker] running; health and metrics on http://${config.http.host}:${config.worker.httpPort}`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
