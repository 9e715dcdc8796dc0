import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { QUEUE_NAME } from '@app/jobs';
import { projectionLag, type ProjectionLag } from '@app/projections';
import { EXIT, print, type OpsContext } from '../cli';

interface Status {
  projections: ProjectionLag[];
  seal: { sealed: string; last_position: string | null; last_checkpoint: { seq: string; signed_at: string } | null };
  queue: { name: string; counts: Record<string, number> } | { name: string; error: string };
  nginx: Record<string, unknown>[];
}

async function queueDepth(url: string, prefix: string): Promise<Status['queue']> {
  const connection = new IORedis(url, { connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  connection.on('error', () => undefined);
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  try {
    return {
      name: `${prefix}:${QUEUE_NAME}`,
      counts: await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'),
    };
  } catch (err) {
    return { name: `${prefix}:${QUEUE_NAME}`, error: (err as Error).message };
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

/** `ops status`: projection checkpoints and lag, the sealer, BullMQ queue depth, last nginx render per node. */
export async function statusCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({});
  const names = (
    await ctx.pool.query(`SELECT name FROM projections WHERE follows_log AND name NOT LIKE '%:rebuild' ORDER BY name`)
  ).rows.map((r) => r.name as string);
  const projections: ProjectionLag[] = [];
  for (const n of names) {
    const lag = await projectionLag(ctx.pool, n, false);
    if (lag) projections.push(lag);
  }
  const seal = (
    await ctx.pool.query(
      `SELECT (SELECT s.seq::text FROM audit_seals s ORDER BY s.seq DESC LIMIT 1) AS sealed, (SELECT global_position::text FROM audit_seals ORDER BY seq DESC LIMIT 1) AS last_position,
            (SELECT json_build_object('seq', seq::text, 'signed_at', signed_at) FROM audit_checkpoints ORDER BY seq DESC LIMIT 1) AS cp`,
    )
  ).rows[0];
  const nginx = (
    await ctx.pool.query(
      `SELECT node, stage, last_outcome, last_attempt_at, last_success_at, routes, skipped_rows, duration_ms, failed_stage, last_error FROM nginx_render_state ORDER BY node`,
    )
  ).rows;
  const status: Status = {
    projections,
    seal: { sealed: seal.sealed ?? '0', last_position: seal.last_position, last_checkpoint: seal.cp },
    queue: await queueDepth(ctx.config.redis.url, ctx.config.redis.prefix),
    nginx,
  };
  print(!!values.json, status, () => {
    const lines = ['projections:'];
    for (const p of projections) {
      lines.push(
        `  ${p.projection.padEnd(12)} at ${p.checkpoint.global_position.padStart(9)} (head ${p.head_position ?? '-'}), ${p.events_behind} events / ${p.seconds_behind} s behind, lease ${p.lease_owner ?? 'free'}`,
      );
    }
    lines.push(
      `audit seal: ${status.seal.sealed} events sealed up to position ${status.seal.last_position ?? '-'}; last signed checkpoint ${status.seal.last_checkpoint ? `seq ${status.seal.last_checkpoint.seq} at ${new Date(status.seal.last_checkpoint.signed_at).toISOString()}` : 'none'}`,
    );
    const q = status.queue;
    lines.push(
      'counts' in q
        ? `queue ${q.name}: ${Object.entries(q.counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : `queue ${q.name}: unavailable (${q.error})`,
    );
    if (!nginx.length) lines.push('nginx: no render yet');
    for (const n of nginx) {
      lines.push(
        `nginx ${n.node}: ${n.last_outcome} at ${new Date(n.last_attempt_at).toISOString()} (${n.routes} routes, ${n.skipped_rows} skipped, ${n.duration_ms} ms)${n.last_error ? `, error: ${n.failed_stage}: ${n.last_error}` : ''}`,
      );
    }
    return `${lines.join('\n')}\n`;
  });
  return EXIT.ok;
}
