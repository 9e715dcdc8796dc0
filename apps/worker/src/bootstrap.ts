import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { checkRedisSafety, REDIS } from '@app/redis';
import { createFastifyAdapter, configureFastify, ProblemFilter } from '@app/http';
import { WorkerModule } from './worker.module';

export async function createWorker(config: AppConfig): Promise<NestFastifyApplication> {
  const ds = await prepareDatabase({
    ...config.database,
    poolSize: Math.min(config.database.poolSize, 5),
    migrate: config.database.migrateOnStart,
    applicationName: 'collab-worker',
    log: (m) => config.logLevel !== 'silent' && console.log(`[worker] ${m}`),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forRoot(config, ds),
    createFastifyAdapter({ bodyLimitBytes: 1024, trustProxy: false, timeouts: config.http }),
    // bodyParser: false keeps Fastify's own JSON parser (with the limits above) and no other: Nest would add a
    // form-urlencoded parser, so a form body reached the handlers instead of getting 415.
    { bufferLogs: true, abortOnError: false, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  configureFastify(app.getHttpAdapter().getInstance());
  const problems = await checkRedisSafety(app.get(REDIS));
  if (problems.length) {
    await app.close();
    throw new Error('Refusing to start:\n  ' + problems.join('\n  '));
  }
  return app;
}
