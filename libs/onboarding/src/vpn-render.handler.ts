import type { Job } from 'bullmq';
import type { Pool } from 'pg';
import type { AppConfig } from '@app/config';
import type { JobHandler, JobPayloads } from '@app/jobs';
import type { KeySealer } from '@app/secrets';
import { VpnCa } from './pki';
import { renderVpnFiles, RenderReport } from './vpn-files.renderer';

export const VPN_RENDER_JOB = 'vpn:render-client-files' as const;

/** The worker's handler of `vpn:render-client-files`: one render of every node's ccd files and the CRL. */
export class VpnRenderHandler implements JobHandler<typeof VPN_RENDER_JOB> {
  readonly name = VPN_RENDER_JOB;
  private ca?: Promise<VpnCa>;

  constructor(
    private readonly db: Pool,
    private readonly config: AppConfig,
    private readonly sealer: KeySealer,
  ) {}

  async handle(_job: Job<JobPayloads[typeof VPN_RENDER_JOB]>): Promise<RenderReport> {
    this.ca ??= VpnCa.load(this.db, this.sealer).catch((err) => {
      this.ca = undefined;
      throw err;
    });
    return renderVpnFiles(this.db, await this.ca, this.sealer, {
      dir: this.config.vpn.filesDir,
      poolCidr: this.config.vpn.poolCidr,
      proto: this.config.vpn.proto,
      defaultNode: this.config.onboarding.defaultNode,
    });
  }
}
