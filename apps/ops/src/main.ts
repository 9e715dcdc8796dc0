import 'reflect-metadata';
import { Logger, type LoggerService } from '@nestjs/common';
import { ConfigError } from '@app/config';
import { EXIT, OpsContext, UsageError, USAGE, usageOf, type OpsCommand } from './cli';
import { auditCommand } from './commands/audit.command';
import { explainCommand } from './commands/explain.command';
import { migrateCommand } from './commands/migrate.command';
import { renderCommand } from './commands/render.command';
import { replayCommand } from './commands/replay.command';
import { compactCommand, partitionsCommand } from './commands/retention.command';
import { jwksCommand, resealKeysCommand, rotateTokenKeyCommand } from './commands/keys.command';
import { secretsCommand } from './commands/secrets.command';
import { statusCommand } from './commands/status.command';
import { mintTokenCommand } from './commands/token.command';
import { verifyCommand } from './commands/verify.command';

/** Operators' command line: `npm run ops -- <command> [options]`; exit codes in EXIT. */
const COMMANDS: Record<string, OpsCommand> = {
  migrate: migrateCommand,
  'mint-token': mintTokenCommand,
  secrets: secretsCommand,
  'rotate-token-key': rotateTokenKeyCommand,
  jwks: jwksCommand,
  'reseal-keys': resealKeysCommand,
  audit: auditCommand,
  replay: replayCommand,
  status: statusCommand,
  explain: explainCommand,
  render: renderCommand,
  verify: verifyCommand,
  partitions: partitionsCommand,
  compact: compactCommand,
};

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  '28P01',
  '28000',
  '3D000',
  '57P03',
]);

/** Library logs (e.g. "rebuilt health ...") go to stderr: stdout carries the result only. */
const stderrLogger: LoggerService = Object.fromEntries(
  (['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const).map((level) => [
    level,
    (message: unknown, ...rest: unknown[]) => {
      if (level === 'debug' || level === 'verbose') return;
      const context = typeof rest[rest.length - 1] === 'string' ? ` [${rest[rest.length - 1]}]` : '';
      process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()}${context} ${String(message)}\n`);
    },
  ]),
) as unknown as LoggerService;

/** Runs one command; returns the exit code. Errors are printed, never thrown. */
async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  Logger.overrideLogger(stderrLogger);
  const ctx = new OpsContext(args);
  try {
    return await run(ctx);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${command}: ${(err as Error).message}\n\n${usageOf(command)}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    if (code && UNREACHABLE.has(code)) {
      process.stderr.write(`cannot connect to PostgreSQL: ${(err as Error).message || code}\n`);
      return EXIT.unreachable;
    }
    if (code === '42P01' || code === '42883') {
      process.stderr.write(`${(err as Error).message}: the schema is not migrated (npm run ops -- migrate)\n`);
      return EXIT.failed;
    }
    process.stderr.write(`${command} failed: ${(err as Error).message}\n`);
    return EXIT.failed;
  } finally {
    await ctx.close();
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
