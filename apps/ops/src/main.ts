import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, envFileLines, loadConfig, productionSecrets } from '@app/config';
import { prepareDatabase } from '@app/database';
import { ROLES, Role, tokenServiceFor } from '@app/auth';
import { isOpsCommand, OPS_USAGE, runOps } from '@app/audit';

/**
 * Operators' command line: `npm run ops -- <command> [options]`.
 * Exit codes: 0 done, 1 failed (or verification failed), 2 bad usage, 3 cannot connect.
 * The audit and retention commands live in libs/audit (runOps).
 */
const USAGE = `usage: npm run ops -- <command> [options]

commands:
  migrate                      apply pending database migrations
  mint-token --role R [--sub ID] [--org UUID] [--project UUID] [--projects UUID,...] [--ttl SECONDS]
                               print a signed token (roles: ${ROLES.join(', ')})
  secrets                      print fresh production secrets as .env lines (JWT_KEYS,
                               AUDIT_SIGNING_KEY, SSO_JWKS): npm run -s ops -- secrets > .env
${OPS_USAGE}`;

class UsageError extends Error {}

async function migrate(): Promise<void> {
  const config = loadConfig();
  const ds = await prepareDatabase({ ...config.database, migrate: true, log: (m) => console.log(m) });
  await ds.destroy();
  console.log('schema is up to date');
}

function mintToken(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: 'string' },
      sub: { type: 'string' },
      org: { type: 'string' },
      project: { type: 'string' },
      projects: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (!values.role || !ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError('--ttl must be a positive integer');
  const tokens = tokenServiceFor(loadConfig());
  const sub = values.sub ?? `${values.role}-cli`;
  console.log(
    tokens.sign(
      {
        sub,
        role: values.role as Role,
        org: values.org,
        project: values.project,
        projects: values.projects ? values.projects.split(',') : undefined,
      },
      ttl,
    ),
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isOpsCommand(command)) return runOps(command, rest);
  try {
    switch (command) {
      case 'migrate':
        await migrate();
        return 0;
      case 'mint-token':
        mintToken(rest);
        return 0;
      case 'secrets':
        process.stdout.write(envFileLines(productionSecrets()));
        return 0;
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return command ? 0 : 2;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`${err instanceof ConfigError ? err.message : ((err as Error).stack ?? err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
