// Render + `nginx -t` + reload (confirmed) for 10,000 and 100,000 routes on a real nginx.
// Run: node -r ./test/support/ts-register.js bench/nginx-render.ts [counts...]
import { randomUUID } from 'node:crypto';
import { safeSwap } from '@app/common';
import { NginxControl, parseCidr, renderStage2Map, RouteRow } from '@app/nginx';
import { startTestNginx } from '../test/support/nginx';

const DOMAIN = 'collab.test';
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

async function bench(count: number): Promise<void> {
  const nginx = await startTestNginx(`bench${count}`);
  try {
    const control = new NginxControl({
      bin: nginx.env.NGINX_BIN, prefix: nginx.env.NGINX_PREFIX, conf: nginx.conf, mapPath: nginx.mapPath,
      reloadCmd: [nginx.env.NGINX_BIN, '-p', nginx.env.NGINX_PREFIX, '-c', nginx.conf, '-s', 'reload'],
      statusUrl: nginx.statusUrl, commandTimeoutMs: 120_000, confirmTimeoutMs: 120_000,
    });
    const org = randomUUID();
    const rows: RouteRow[] = Array.from({ length: count }, (_, i) => {
      const c = randomUUID();
      return { fqdn: `uc-${c}--svc.org-${org}.${DOMAIN}`, container_id: c, org_id: org, service: 'svc', port: 8000 + (i % 1000), is_primary: i % 2 === 0, vpn_address: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`, gateway_node: null, active: true };
    });
    let t = performance.now();
    const file = renderStage2Map(rows, { domain: DOMAIN, vpnRanges: [parseCidr('127.0.0.0/8')] });
    const render = ms(t);
    let test = '';
    let reload = '';
    t = performance.now();
    await safeSwap(nginx.mapPath, file.text, {
      validate: async (candidate) => {
        const t1 = performance.now();
        await control.test(candidate);
        test = ms(t1);
      },
      activate: async () => {
        const t1 = performance.now();
        await control.reload();
        await control.confirm(file.hash);
        reload = ms(t1);
      },
    });
    const total = ms(t);
    console.log(`${count} routes (${file.entries} host names, ${(file.text.length / 1e6).toFixed(1)} MB): render ${render}, nginx -t ${test}, reload+confirm ${reload} (includes a 250 ms settle), swap total ${total}`);
  } finally {
    await nginx.stop();
  }
}

(async () => {
  const counts = process.argv.slice(2).map(Number);
  for (const n of counts.length ? counts : [10_000, 100_000]) await bench(n);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
