import { prepareDatabase } from '@app/database';
import { EXIT, type OpsContext } from '../cli';

/** `ops migrate`: apply pending migrations (under the migration lock). */
export async function migrateCommand(ctx: OpsContext): Promise<number> {
  ctx.parse({});
  const ds = await prepareDatabase({ ...ctx.config.database, migrate: true, log: (m) => console.log(m) });
  await ds.destroy();
  console.log('schema is up to date');
  return EXIT.ok;
}
