import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, envFileLines, loadConfig, productionSecrets } from '@app/config';
import { prepareDatabase } from '@app/database';
import { ROLES, Role, rotateTokenKeys, tokenKeysFor, tokenServiceFor } from '@app/auth';
import { VPN_SEALED_COLUMNS } from '@app/onboarding';
import { keySealerFor, prepareSealedKeys } from '@app/secrets';
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

function rotateTokenKey(args: string[]): void {
  const { values } = parseArgs({ args, options: { overlap: { type: 'string' } } });
  const config = loadConfig();
  const overlap = values.overlap === undefined ? config.jwt.containerTokenTtlS + config.jwt.clockToleranceS : Number(values.overlap);
  if (!Number.isInteger(overlap) || overlap < 0) throw new UsageError('--overlap must be a whole number of seconds');
  if (!config.jwt.privateJwks)
    throw new UsageError('rotate-token-key needs the current JWT_PRIVATE_JWKS (and JWT_PUBLIC_JWKS) in the environment');
  process.stdout.write(
    envFileLines({ ...rotateTokenKeys({ privateJwks: config.jwt.privateJwks, publicJwks: config.jwt.publicJwks, overlapS: overlap }) }),
  );
}

async function resealKeys(): Promise<void> {
  const config = loadConfig();
  const sealer = keySealerFor(config);
  const ds = await prepareDatabase({ ...config.database, migrate: true });
  try {
    const changed = await prepareSealedKeys((ds.driver as unknown as { master: import('pg').Pool }).master, sealer, VPN_SEALED_COLUMNS);
    for (const [column, n] of Object.entries(changed)) console.log(`${column}: ${n} resealed under "${sealer.wrapper.activeId}"`);
  } finally {
    await ds.destroy();
  }
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
      case 'rotate-token-key':
        rotateTokenKey(rest);
        return 0;
      case 'jwks':
        console.log(JSON.stringify(tokenKeysFor(loadConfig()).publicJwks()));
        return 0;
      case 'reseal-keys':
        await resealKeys();
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
