import { isUuid } from '@app/common';
import type { RecordedEvent } from '@app/event-store';
import { ProjectionHandler, type AfterCommit, type Projection, type ProjectionContext } from '@app/projections';

const REGISTERED = 'user-container:registered';

/**
 * Notices an org's first container: each `user-container:registered` of an org not seen before
 * adds it to certificate_orgs and, once the batch committed, asks for its wildcard. Replays and
 * rebuilds add rows only (the periodic reconciliation asks for anything missed).
 */
@ProjectionHandler()
export class CertificatesProjection implements Projection {
  readonly name = 'certificates';
  readonly tables = ['certificate_orgs'] as const;
  readonly eventTypes = new Set([REGISTERED]);

  constructor(private readonly onNewOrgs: ((orgs: string[]) => Promise<void>) | null) {}

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<AfterCommit | void> {
    const seen = new Map<string, string>();
    for (const e of events) {
      const org = (e.data as { org_id?: unknown })?.org_id;
      if (e.type === REGISTERED && isUuid(org) && !seen.has(org)) seen.set(org, e.globalPosition);
    }
    if (!seen.size) return;
    const { rows } = await ctx.client.query(
      `INSERT INTO ${ctx.table('certificate_orgs')} (org_id, first_position)
       SELECT * FROM unnest($1::uuid[], $2::bigint[]) ON CONFLICT (org_id) DO NOTHING RETURNING org_id::text AS org`,
      [[...seen.keys()], [...seen.values()]],
    );
    const fresh = rows.map((r) => r.org as string);
    const notify = this.onNewOrgs;
    if (ctx.rebuilding || !notify || !fresh.length) return;
    return async () => notify(fresh);
  }
}
