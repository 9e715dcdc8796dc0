import { compactionOptionsOf, compactWatchdogs, ensurePartitionsAhead, listPartitions, AuditKeys } from '@app/audit';
import { EXIT, print, UsageError, type OpsContext } from '../cli';

const intFlag = (v: unknown, name: string, min: number, max: number, fallback: number) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
};

/** `ops partitions`: create the day partitions ahead (as the worker does) and list them. */
export async function partitionsCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({ ahead: { type: 'string' } });
  const ahead = intFlag(values.ahead, 'ahead', 1, 365, ctx.config.audit.partitionAheadDays);
  const created = await ensurePartitionsAhead(ctx.pool, ahead);
  const partitions = await listPartitions(ctx.pool);
  print(
    !!values.json,
    { created, partitions },
    () =>
      `${created.length ? `created ${created.join(', ')}\n` : ''}${partitions.map((p) => `${p.name.padEnd(18)} ${String(p.rows_estimate).padStart(10)} rows (approx.) ${String(p.bytes).padStart(12)} bytes`).join('\n')}\n`,
  );
  return EXIT.ok;
}

/** `ops compact`: apply the watchdog retention policy now. */
export async function compactCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({ 'retention-days': { type: 'string' }, 'no-vacuum-full': { type: 'boolean' } });
  const retentionDays = intFlag(values['retention-days'], 'retention-days', 0, 36_500, ctx.config.audit.watchdogRetentionDays);
  const results = await compactWatchdogs(ctx.pool, AuditKeys.forConfig(ctx.config), {
    ...compactionOptionsOf(ctx.config, !values['no-vacuum-full']),
    retentionDays,
  });
  print(!!values.json, { compactions: results }, () =>
    results.length
      ? results
          .map(
            (c) =>
              `${c.partition}: ${c.removed} of ${c.watchdogs} watchdogs of ${c.containers} containers compacted (${c.kept} kept), ${c.bytes_before} -> ${c.bytes_after} bytes\n`,
          )
          .join('')
      : `nothing to compact (days older than ${retentionDays} days are compacted once)\n`,
  );
  return EXIT.ok;
}
