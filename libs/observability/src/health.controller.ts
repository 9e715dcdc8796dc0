import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { projectionsBehindSeconds } from '@app/projections';
import { withDeadline } from '@app/common';
import { REDIS } from '@app/redis';
import { ReadinessChecks } from './readiness';

const PROBE_TIMEOUT_MS = 2_000;

const withTimeout = <T>(p: Promise<T>, ms: number) => withDeadline(p, ms, `timed out after ${ms} ms`);

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ReadinessChecks) private readonly extra: ReadinessChecks,
  ) {}

  /** The process is up and its event loop turns (no dependency is asked: a restart would not help). */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  /** Ready to serve: PostgreSQL and Redis answer, and no projection trails the log too far. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: PostgreSQL, Redis, projection lag (READINESS_MAX_PROJECTION_LAG_S) and the checks libs add (nginx renders on the worker); 503 when any is down',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      return await this.checkAll();
    } catch (err) {
      // Terminus throws a 503 carrying the whole report; send the report itself (which check is
      // down, and why), not the generic problem the exception filter would make of it.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      reply.status(503).header('cache-control', 'no-store');
      return err.getResponse();
    }
  }

  private checkAll() {
    return this.health.check([
      () => this.probe('postgres', async () => void (await this.pool.query('SELECT 1'))),
      () => this.probe('redis', async () => void (await this.redis.ping())),
      () => this.probe('projections', () => this.projectionLag()),
      ...this.extra.all().map((c) => () => this.probe(c.name, () => c.check())),
    ]);
  }

  private async projectionLag() {
    const max = this.config.projections.readyMaxLagS;
    if (max === 0) return { up: true, details: { checked: false } };
    const lag = await projectionsBehindSeconds(this.pool);
    const behind = lag.filter((l) => l.seconds_behind > max);
    return { up: behind.length === 0, details: { max_lag_s: max, lagging: behind } };
  }

  private async probe(key: string, fn: () => Promise<void | { up: boolean; details?: Record<string, unknown> }>) {
    const check = this.indicator.check(key);
    try {
      const r = await withTimeout(fn(), PROBE_TIMEOUT_MS);
      if (!r) return check.up();
      return r.up ? check.up(r.details) : check.down(r.details);
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}
