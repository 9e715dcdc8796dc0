import { envFileLines, productionSecrets } from '@app/config';
import { EXIT, type OpsContext } from '../cli';

/** `ops secrets`: fresh production secrets as .env lines; needs no config. */
export async function secretsCommand(ctx: OpsContext): Promise<number> {
  ctx.parse({});
  process.stdout.write(envFileLines(productionSecrets()));
  return EXIT.ok;
}
