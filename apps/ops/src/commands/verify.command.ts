import { AuditKeys, verifyChain } from '@app/audit';
import { EXIT, print, type OpsContext } from '../cli';

/** `ops verify`: exit 0 when the chain holds, 1 naming the first event altered, deleted or inserted. */
export async function verifyCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({});
  const r = await verifyChain(ctx.pool, AuditKeys.forConfig(ctx.config));
  print(!!values.json, r, () =>
    r.ok
      ? `ok: ${r.sealed} sealed events checked (${r.events_checked} present, ${r.compacted} compacted under ${r.compactions} signed compactions), ` +
        `${r.checkpoints} signed checkpoints, last at seq ${r.last_checkpoint?.seq ?? '-'}; ${r.unsigned_tail} sealed since; ${r.not_yet_sealed} not yet sealed (${r.ms} ms)\n`
      : `FAILED: ${r.problem!.kind}: ${r.problem!.detail}\n`,
  );
  return r.ok ? EXIT.ok : EXIT.failed;
}
