import { z } from 'zod';
import { UUID_RE } from '@app/common';

/** A host as nginx sees it: lower-case, no port, at most 253 characters of host-name characters. */
const HOST = /^[a-z0-9.-]{1,253}$/;

/** GET /routes/explain: `url=` (any http/https URL) or `fqdn=` (a host), and optionally a user to check access for. */
export const explainQuery = z
  .strictObject({
    url: z.string().max(2048).optional(),
    fqdn: z.string().max(253).optional(),
    user: z.string().regex(UUID_RE, 'must be a lower-case UUID').optional(),
  })
  .transform((q, ctx) => {
    if ((q.url === undefined) === (q.fqdn === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give exactly one of url and fqdn' });
      return z.NEVER;
    }
    let host = q.fqdn?.toLowerCase();
    const field = q.url !== undefined ? 'url' : 'fqdn';
    if (q.url !== undefined) {
      try {
        const u = new URL(q.url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
        host = u.hostname;
      } catch {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'must be an http or https URL' });
        return z.NEVER;
      }
    }
    if (!host || !HOST.test(host)) {
      ctx.addIssue({ code: 'custom', path: [field], message: 'must be a host name (letters, digits, dots and dashes)' });
      return z.NEVER;
    }
    return { host, user: q.user };
  });
