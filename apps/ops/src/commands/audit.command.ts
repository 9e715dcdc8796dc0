import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseInput, ValidationError } from '@app/common';
import { eachEvent, exportQuery } from '@app/audit';
import { EXIT, UsageError, type OpsContext } from '../cli';

const FILTERS = ['container', 'project', 'org', 'type', 'actor', 'from', 'to'] as const;

/** `ops audit`: the HTTP API's filters as flags; NDJSON (default) or a table, to stdout or --out. */
export async function auditCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({
    ...Object.fromEntries(FILTERS.map((f) => [f, { type: 'string' as const }])),
    format: { type: 'string', default: 'ndjson' },
    out: { type: 'string' },
  });
  if (values.format !== 'ndjson' && values.format !== 'table') throw new UsageError('--format must be ndjson or table');
  let filters;
  try {
    filters = parseInput(exportQuery, Object.fromEntries(FILTERS.filter((f) => values[f] !== undefined).map((f) => [f, values[f]])));
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.problems.map((p) => `--${p.field}: ${p.message}`).join('; '));
    throw err;
  }
  const table = values.format === 'table';
  let n = 0;
  const lines = Readable.from(
    (async function* () {
      if (table) yield `${'POSITION'.padEnd(10)} ${'RECORDED AT'.padEnd(24)} ${'TYPE'.padEnd(38)} ${'ACTOR'.padEnd(24)} STREAM\n`;
      for await (const e of eachEvent(ctx.pool, filters)) {
        n++;
        yield table
          ? `${e.position.padEnd(10)} ${e.recorded_at.padEnd(24)} ${e.type.padEnd(38)} ${(e.actor ?? '-').slice(0, 24).padEnd(24)} ${e.stream_id}\n`
          : `${JSON.stringify(e)}\n`;
      }
    })(),
  );
  try {
    if (values.out) await pipeline(lines, createWriteStream(String(values.out)));
    else await pipeline(lines, process.stdout, { end: false });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EPIPE') throw err; // `| head` closed the pipe: fine
  }
  if (values.out) process.stderr.write(`${n} events written to ${values.out}\n`);
  return EXIT.ok;
}
