import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { checkRedisSafety, REDIS } from '@app/redis';
import { createFastifyAdapter, configureFastify, ProblemFilter, serveStaticSite } from '@app/http';
import { GatewayModule } from './gateway.module';

/** Builds the gateway (database prepared and migrated), ready to listen. Used by main and by tests. */
export async function createGateway(config: AppConfig): Promise<NestFastifyApplication> {
  const ds = await prepareDatabase({
    ...config.database,
    migrate: config.database.migrateOnStart,
    applicationName: 'collab-gateway',
    log: (m) => config.logLevel !== 'silent' && console.log(`[gateway] ${m}`),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config, ds),
    createFastifyAdapter({ bodyLimitBytes: config.http.bodyLimitBytes, trustProxy: config.http.trustProxy, timeouts: config.http }),
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

  const openapi = new DocumentBuilder()
    .setTitle('Collab gateway')
    .setDescription('Container event ingest, read models and operations for the user-container platform.')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openapi), { jsonDocumentUrl: 'docs/openapi.json' });
  const dashboard = await serveStaticSite(app, {
    prefix: '/dashboard/',
    dir: config.dashboardDir,
    buildHint: 'run `npm run build` (builds the web dashboard into DASHBOARD_DIR)',
  });
  if (dashboard === 'missing' && config.logLevel !== 'silent')
    console.warn(`[gateway] no web dashboard in ${config.dashboardDir}: run \`npm run build\``);
  return app;
}
