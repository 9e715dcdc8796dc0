import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { loadConfig, type AppConfig } from '@app/config';
import { ROLES } from '@app/auth';

/** Exit codes of every ops command (README, Operations). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/** The one usage text of `npm run ops`; `usageOf(command)` cuts one command's lines out of it. */
export const USAGE = `usage: npm run ops -- <command> [options]

commands:
  migrate                      apply pending database migrations
  mint-token --role R [--sub ID] [--org UUID] [--project UUID] [--projects UUID,...] [--ttl SECONDS]
                               print a signed token (roles: ${ROLES.join(', ')}); needs JWT_PRIVATE_JWKS
  secrets                      print fresh production secrets as .env lines (JWT_PRIVATE_JWKS,
                               JWT_ACTIVE_KID, JWT_PUBLIC_JWKS, KEY_ENCRYPTION_KEYS, AUDIT_SIGNING_KEY):
                               npm run -s ops -- secrets > .env
  rotate-token-key [--overlap SECONDS]
                               from the current JWT_PRIVATE_JWKS/JWT_PUBLIC_JWKS, print the next ones as
                               .env lines: a new key signs, the old ones verify until now + overlap
                               (default CONTAINER_TOKEN_TTL_S + JWT_CLOCK_TOLERANCE_S), then are refused
  jwks                         print the public keys that verify tokens now (as /.well-known/jwks.json)
  reseal-keys                  seal plaintext private keys in the database and re-wrap those under an
                               old KEK with the active one (gateway and worker also do it at start)
  audit [--container UUID] [--project UUID] [--org UUID] [--type T,...] [--actor TYPE:ID]
        [--from ISO] [--to ISO] [--format ndjson|table] [--out FILE]
                               events matching the filters, in log order (stdout or FILE)
  replay <health|routing|all> [--batch N] [--json]
                               rebuild projections into fresh tables and swap (safe while the gateway runs)
  status [--json]              projection checkpoints and lag, sealer, queue depth, last nginx render
  explain <url|fqdn> [--user UUID] [--json]
                               why a service URL answers what it does: one verdict and the chain
                               (container, mapping, projection, route, render, access); exit 0 when served
  render --diff [--limit N] [--exit-code] [--json]
                               what the next nginx render of this node would change against what its
                               nginx serves now (+ added, - removed, ~ changed, ! refused rows); reads only;
                               --exit-code: exit 1 when it would change something
  verify [--json]              walk the hash chain; exit 1 naming the first bad event
  partitions [--ahead DAYS] [--json]
                               create the day partitions of the log ahead, list them with their size
  compact [--retention-days N] [--no-vacuum-full] [--json]
                               compact raw watchdogs older than N days into per-container summaries

exit codes: 0 ok, 1 failed (verification failed, command error), 2 bad usage, 3 cannot connect
`;

/** Bad arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** The lines of USAGE that describe `command` (its line and the indented ones after it). */
export function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
  if (start < 0) return USAGE;
  const end = lines.findIndex((l, i) => i > start && /^ {2}[a-z]/.test(l));
  const own = lines
    .slice(start, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n  ');
  return `usage: npm run ops -- ${own}\n`;
}

type Options = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

/**
 * In development (NODE_ENV unset or `development`), the settings `npm start` derived for its
 * gateway and worker (DATA_DIR/dev.env: the development nginx, Stage 1 and VPN pool), under what
 * the shell sets itself, so `npm run ops` in another shell talks about the same node.
 */
export function withDevEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if ((env.NODE_ENV ?? 'development') !== 'development') return env;
  let text: string;
  try {
    text = readFileSync(resolve(env.DATA_DIR || '.data', 'dev.env'), 'utf8');
  } catch {
    return env;
  }
  const derived: NodeJS.ProcessEnv = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) derived[m[1]!] = m[2];
  }
  return { ...derived, ...env };
}

/** What a command gets: its arguments, the config and a small pool, both made on first use. */
export class OpsContext {
  private loaded?: AppConfig;
  private opened?: Pool;
  constructor(readonly args: string[]) {}

  get config(): AppConfig {
    return (this.loaded ??= loadConfig(withDevEnv(process.env)));
  }

  get pool(): Pool {
    if (!this.opened) {
      this.opened = new Pool({ connectionString: this.config.database.url, max: 4, connectionTimeoutMillis: 5_000 });
      this.opened.on('error', () => undefined);
    }
    return this.opened;
  }

  /** parseArgs (strict) with --json added. */
  parse(options: Options, positionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
    const parsed = parseArgs({
      args: this.args,
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: positionals,
      strict: true,
    });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  }

  async close(): Promise<void> {
    await this.opened?.end().catch(() => undefined);
  }
}

export type OpsCommand = (ctx: OpsContext) => Promise<number>;

/** Prints `value` as JSON or as the human text. */
export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}
