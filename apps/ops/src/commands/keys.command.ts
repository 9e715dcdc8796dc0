import { rotateTokenKeys, tokenKeysFor } from '@app/auth';
import { CERTIFICATE_SEALED_COLUMNS } from '@app/certificates';
import { envFileLines } from '@app/config';
import { prepareDatabase } from '@app/database';
import { VPN_SEALED_COLUMNS } from '@app/onboarding';
import { keySealerFor, prepareSealedKeys } from '@app/secrets';
import { EXIT, UsageError, type OpsContext } from '../cli';

/** `ops rotate-token-key`: the next token keys as .env lines; the old kids verify for the overlap. */
export async function rotateTokenKeyCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({ overlap: { type: 'string' } });
  const { jwt } = ctx.config;
  const overlap = values.overlap === undefined ? jwt.containerTokenTtlS + jwt.clockToleranceS : Number(values.overlap);
  if (!Number.isInteger(overlap) || overlap < 0) throw new UsageError('--overlap must be a whole number of seconds');
  if (!jwt.privateJwks)
    throw new UsageError('rotate-token-key needs the current JWT_PRIVATE_JWKS (and JWT_PUBLIC_JWKS) in the environment');
  process.stdout.write(
    envFileLines({ ...rotateTokenKeys({ privateJwks: jwt.privateJwks, publicJwks: jwt.publicJwks, overlapS: overlap }) }),
  );
  return EXIT.ok;
}

/** `ops jwks`: the public keys that verify tokens now. */
export async function jwksCommand(ctx: OpsContext): Promise<number> {
  ctx.parse({});
  console.log(JSON.stringify(tokenKeysFor(ctx.config).publicJwks()));
  return EXIT.ok;
}

/** `ops reseal-keys`: what gateway and worker do at start: check the KEK, seal plaintext keys, re-wrap old-KEK ones. */
export async function resealKeysCommand(ctx: OpsContext): Promise<number> {
  ctx.parse({});
  const sealer = keySealerFor(ctx.config);
  const ds = await prepareDatabase({ ...ctx.config.database, migrate: true });
  await ds.destroy();
  const changed = await prepareSealedKeys(ctx.pool, sealer, [...VPN_SEALED_COLUMNS, ...CERTIFICATE_SEALED_COLUMNS]);
  for (const [column, n] of Object.entries(changed)) console.log(`${column}: ${n} resealed under "${sealer.wrapper.activeId}"`);
  return EXIT.ok;
}
