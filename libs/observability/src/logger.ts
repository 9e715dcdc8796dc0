import { LoggerModule } from 'nestjs-pino';

/** pino JSON logs; the Authorization header and anything key-like never reach them. */
export function loggerModule(level: string, name: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
      name,
      level,
      autoLogging: false,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.key', '*.private_key'], censor: '[redacted]' },
      quietReqLogger: true,
    },
  });
}
