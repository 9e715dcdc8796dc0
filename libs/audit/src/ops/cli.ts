import { parseArgs } from 'node:util';
import { Logger, type LoggerService } from '@nestjs/common';
import { Pool } from 'pg';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { auditCommand } from './audit.command';
import { replayCommand } from './replay.command';
import { statusCommand } from './status.command';
import { verifyCommand } from './verify.command';
import { compactCommand, partitionsCommand } from './retention.command';

/** Exit codes of the operators' commands (README, Operations). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export const OPS_USAGE = `  audit [--container UUID] [--project UUID] [--org UUID] [--type T,...] [--actor TYPE:ID]
        [--from ISO] [--to ISO] [--format ndjson|table] [--out FILE]
                               events matching the filters, in log order (stdout or FILE)
  replay <health|routing|all> [--batch N] [--json]
                               rebuild projections into fresh tables and swap (safe while the gateway runs)
  status [--json]              projection checkpoints and lag, sealer, queue depth, last nginx render
  verify [--json]              walk the hash chain; exit 1 naming the first bad event
  partitions [--ahead DAYS] [--json]
                               create the day partitions of the log ahead, list them with their size
  compact [--retention-days N] [--no-vacuum-full] [--json]
                               compact raw watchdogs older than N days into per-container summaries

exit codes: 0 ok, 1 failed (verification failed, command error), 2 bad usage, 3 cannot connect
`;

export class UsageError extends Error {}

/** The lines of OPS_USAGE that describe `command` (its line and the indented ones after it). */
function usageOf(command: string): string {
  const lines = OPS_USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
  const end = lines.findIndex((l, i) => i > start && /^  [a-z]/.test(l));
  return lines
    .slice(start, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n  ');
}

export interface OpsContext {
  config: AppConfig;
  pool: Pool;
  args: string[];
  /** parseArgs with --json and --help added. */
  parse<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(
    options: T,
    positionals?: boolean,
  ): { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

const COMMANDS: Record<string, (ctx: OpsContext) => Promise<number>> = {
  audit: auditCommand,
  replay: replayCommand,
  status: statusCommand,
  verify: verifyCommand,
  partitions: partitionsCommand,
  compact: compactCommand,
};

export const isOpsCommand = (name: string | undefined): boolean => !!name && name in COMMANDS;

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

/** Runs one audit/retention command; returns the exit code. Errors are printed, never thrown. */
export async function runOps(command: string, args: string[]): Promise<number> {
  Logger.overrideLogger(stderrLogger);
  let pool: Pool | undefined;
  try {
    const config = loadConfig();
    pool = new Pool({ connectionString: config.database.url, max: 4, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => undefined);
    const ctx: OpsContext = {
      config,
      pool,
      args,
      parse: (options, positionals = false) => {
        const parsed = parseArgs({ args, options: { ...options, json: { type: 'boolean' } }, allowPositionals: positionals, strict: true });
        return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
      },
    };
    return await COMMANDS[command](ctx);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${command}: ${(err as Error).message}\n\nusage: npm run ops -- ${usageOf(command)}\n`);
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
    await pool?.end().catch(() => undefined);
  }
}

/** Prints `value` as JSON or as the human text. */
export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}
