import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@app/config';
import { createProcess, serveStaticSite } from '@app/http';
import { collabEventOpenApi, registerCollabEventRoute } from '@app/container-events';
import { GatewayModule } from './gateway.module';

/** Builds the gateway (database prepared and migrated), ready to listen. Used by main and by tests. */
export async function createGateway(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await createProcess(config, {
    role: 'gateway',
    module: (ds) => GatewayModule.forRoot(config, ds),
    bodyLimitBytes: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
  });
  registerCollabEventRoute(app, app.getHttpAdapter().getInstance());

  const openapi = new DocumentBuilder()
    .setTitle('Collab gateway')
    .setDescription('Container event ingest, read models and operations for the user-container platform.')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => withPaths(SwaggerModule.createDocument(app, openapi), collabEventOpenApi()), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
  const dashboard = await serveStaticSite(app, {
    prefix: '/dashboard/',
    dir: config.dashboardDir,
    buildHint: 'run `npm run build` (builds the web dashboard into DASHBOARD_DIR)',
  });
  if (dashboard === 'missing' && config.logLevel !== 'silent')
    console.warn(`[gateway] no web dashboard in ${config.dashboardDir}: run \`npm run build\``);
  return app;
}

/** Adds the plain Fastify routes' entries to Nest's document. */
function withPaths(doc: OpenAPIObject, paths: Record<string, unknown>): OpenAPIObject {
  return { ...doc, paths: { ...doc.paths, ...(paths as OpenAPIObject['paths']) } };
}
