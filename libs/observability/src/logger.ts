import { LoggerModule } from 'nestjs-pino';

/**
 * pino JSON logs; the Authorization header and anything key-like never reach them.
 * No per-request middleware (forRoutes: []): a child logger per request cost ~11% of the ingest
 * path's CPU in a profile; errors are logged by the problem filter instead.
 */
export function loggerModule(level: string, name: string) {
  return LoggerModule.forRoot({
    forRoutes: [],
    pinoHttp: {
      name,
      level,
      autoLogging: false,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.key', '*.private_key'], censor: '[redacted]' },
      quietReqLogger: true,
    },
  });
}
