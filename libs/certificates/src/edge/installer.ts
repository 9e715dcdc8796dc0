import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lastGoodPath, safeSwap, SwapError, writeFileAtomic } from '@app/common';
import { declaredHash, NginxControl } from '@app/nginx';
import { CertLayout, InstalledCert, renderCertInclude } from './cert-map';
import { ensureFallbackCert, FALLBACK_STEM } from './fallback-cert';
import { stage1ServerBody } from './stage1-conf';

/** A certificate ready for Stage 1: the chain and the opened private key (PEM; never logged). */
export interface InstallableCert {
  subject: string;
  names: string[];
  fingerprint: string;
  chainPem: string;
  keyPem: string;
}

export interface InstallerOptions {
  certDir: string;
  mapPath: string;
  layout: CertLayout;
  /** server-blocks layout: the HTTPS listen address of the Stage 1 config. */
  httpsListen?: string;
  /** The gateway's host names (read at every install: nodes registered later are picked up). */
  gatewayFqdns: () => Promise<readonly string[]>;
}

export type InstallOutcome = { status: 'swapped' | 'unchanged'; hash: string; certs: number };

const stemOf = (c: { subject: string; fingerprint: string }) => `${c.subject}-${c.fingerprint.slice(0, 16)}`;

/**
 * Puts the issued certificates in front of Stage 1: each certificate's files under a name of its
 * own (`<subject>-<fingerprint>.crt/.key`, written once, key 0600, the pair checked to match),
 * then the include naming them swapped in like the routes map (nginx -t, last good kept, reload
 * confirmed by the served hash, rollback). A renewal is a new file pair plus a graceful reload, so
 * no connection ever sees a half-written file. Files no longer named by the live or the
 * last-good include are removed afterwards.
 */
export class CertificateInstaller {
  constructor(
    private readonly o: InstallerOptions,
    private readonly control: NginxControl,
  ) {}

  async install(certs: readonly InstallableCert[]): Promise<InstallOutcome> {
    await ensureFallbackCert(this.o.certDir);
    const installed: InstalledCert[] = [];
    for (const c of certs) {
      const stem = stemOf(c);
      const crt = join(this.o.certDir, `${stem}.crt`);
      const key = join(this.o.certDir, `${stem}.key`);
      if (!existsSync(crt) || !existsSync(key)) {
        const leaf = new X509Certificate(c.chainPem);
        if (!leaf.checkPrivateKey(createPrivateKey(c.keyPem)))
          throw new SwapError('write', `${c.subject}: key does not match certificate`, false);
        await writeFileAtomic(key, c.keyPem, 0o600);
        await writeFileAtomic(crt, c.chainPem, 0o644);
      }
      installed.push({ subject: c.subject, names: c.names, stem });
    }
    const gateway = installed.find((c) => c.subject === 'gateway');
    const file = renderCertInclude({
      certs: installed,
      defaultStem: gateway?.stem ?? FALLBACK_STEM,
      gatewayFqdns: await this.o.gatewayFqdns(),
      certDir: this.o.certDir,
      layout: this.o.layout,
      listen: this.o.httpsListen,
      serverBody: stage1ServerBody(),
    });
    const swap = await safeSwap(this.o.mapPath, file.text, {
      validate: (candidate) => this.control.test(candidate),
      activate: async () => {
        await this.control.reload();
        await this.control.confirm(declaredHash(await readFile(this.o.mapPath, 'utf8')) ?? 'none');
      },
    });
    let status: InstallOutcome['status'] = swap.status;
    if (swap.status === 'unchanged' && (await this.control.servingHash()) !== file.hash) {
      await this.control.reload();
      await this.control.confirm(file.hash);
      status = 'swapped';
    }
    await this.collectGarbage().catch(() => undefined);
    return { status, hash: file.hash, certs: installed.length };
  }

  private async collectGarbage(): Promise<void> {
    const named = new Set<string>([FALLBACK_STEM]);
    for (const p of [this.o.mapPath, lastGoodPath(this.o.mapPath)]) {
      const text = await readFile(p, 'utf8').catch(() => '');
      for (const m of text.matchAll(/"([a-z0-9][a-z0-9-]{0,100})";/g)) named.add(m[1]);
    }
    for (const f of await readdir(this.o.certDir)) {
      const m = /^([a-z0-9][a-z0-9-]{0,100})\.(crt|key)$/.exec(f);
      if (m && !named.has(m[1])) await rm(join(this.o.certDir, f), { force: true });
    }
  }
}
