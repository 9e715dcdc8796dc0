import { Injectable } from '@nestjs/common';

/** One extra readiness check a lib contributes (the nginx render state on the worker, say). */
export interface ReadinessCheck {
  name: string;
  /** `up: false` makes /health/ready answer 503; `details` is shown either way. */
  check(): Promise<{ up: boolean; details?: Record<string, unknown> }>;
}

/** Where libs register their readiness checks (in onModuleInit); /health/ready runs them all. */
@Injectable()
export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(check: ReadinessCheck): void {
    if (this.checks.has(check.name)) throw new Error(`readiness check ${check.name} is registered twice`);
    this.checks.set(check.name, check);
  }

  all(): ReadinessCheck[] {
    return [...this.checks.values()];
  }
}
