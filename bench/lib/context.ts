import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenService } from '@app/auth';
import type { TestNginx } from '../../test/support/nginx';
import type { BenchProcess } from './procs';

/** One printed row: a figure, its target (or "printed" for ceilings), whether it is met. */
export interface Row {
  scenario: string;
  figure: string;
  value: string;
  target: string;
  met: boolean | null;
  data?: Record<string, unknown>;
}

export interface BenchContext {
  quick: boolean;
  dir: string;
  db: { url: string; name: string };
  env: NodeJS.ProcessEnv;
  tokens: TokenService;
  gateway: BenchProcess;
  gatewayUrl: string;
  worker: BenchProcess;
  workerUrl: string;
  nginx: TestNginx;
  operatorToken: string;
}

/** Writes `count` container tokens (distinct containers, as a fleet has) for the load generator. */
export function tokensFile(ctx: BenchContext, count: number, label: string): string {
  const org = randomUUID();
  const rows = Array.from({ length: count }, () => {
    const project = randomUUID();
    return { project, token: ctx.tokens.sign({ sub: randomUUID(), role: 'container', org, project }, 3600) };
  });
  const file = join(ctx.dir, `tokens-${label}.json`);
  writeFileSync(file, JSON.stringify(rows));
  return file;
}

export interface LoadResult {
  accepted_per_s: number;
  events_per_s: number;
  accepted: number;
  /** Events in the accepted requests (accepted x the events per request). */
  events: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency_ms: { p50: number; p99: number };
  /** The load generator's CPU seconds over the run. */
  cpu_s: number;
}
