import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { checkRedisSafety, REDIS } from '@app/redis';
import { configureFastify, createFastifyAdapter } from './fastify';
import { ProblemFilter } from './problem.filter';

export interface ProcessSpec {
  /** `gateway` or `worker`: the log prefix and PostgreSQL's application_name (`collab-<role>`). */
  role: string;
  /** The root module, given the prepared DataSource. */
  module: (ds: DataSource) => DynamicModule;
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** At most this many pooled connections (the worker needs few). */
  maxPoolSize?: number;
}

/**
 * The one start-up of a Nest process (gateway and worker alike, in main and in tests): database
 * created if missing, checked and migrated; Fastify with the problem-details filter, pino logs and
 * shutdown hooks; refuses to start on a Redis that may evict or drop writes.
 */
export async function createProcess(config: AppConfig, spec: ProcessSpec): Promise<NestFastifyApplication> {
  const ds = await prepareDatabase({
    ...config.database,
    poolSize: Math.min(config.database.poolSize, spec.maxPoolSize ?? Infinity),
    migrate: config.database.migrateOnStart,
    applicationName: `collab-${spec.role}`,
    log: (m) => config.logLevel !== 'silent' && console.log(`[${spec.role}] ${m}`),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    spec.module(ds),
    createFastifyAdapter({ bodyLimitBytes: spec.bodyLimitBytes, trustProxy: spec.trustProxy, timeouts: config.http }),
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
