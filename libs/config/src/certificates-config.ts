import { z } from 'zod';
import { bool, int, url as httpUrl } from './env-types';

/**
 * TLS at the edge (libs/certificates): the worker obtains and renews one wildcard per org and one
 * certificate for the gateway FQDNs, and installs them into the Stage 1 nginx. Off unless
 * CERTS_ENABLED; `npm start` turns it on with the development CA.
 */
const absPath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of plain characters');
const domain = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export const certificatesEnvShape = {
  CERTS_ENABLED: bool.default(false),
  CERTS_ISSUER: z.enum(['acme', 'dev-ca']).optional(),
  CERTS_RENEW_BEFORE_DAYS: int(1, 365).default(30),
  CERTS_RETRY_MIN_S: int(1, 86_400).default(60),
  CERTS_RETRY_MAX_S: int(1, 7 * 86_400).default(6 * 3600),
  CERTS_RECONCILE_S: int(10, 86_400).default(3600),
  /** Extra gateway host names for the gateway certificate (besides GATEWAY_DEFAULT_FQDN and registered nodes). */
  CERTS_GATEWAY_FQDNS: z
    .string()
    .regex(/^[a-z0-9.,-]+$/, 'comma-separated lower-case DNS names')
    .optional(),
  CERTS_LAYOUT: z.enum(['map', 'server-blocks']).default('map'),
  CERTS_DIR: absPath.default('/etc/nginx/collab/certs'),
  CERTS_MAP_PATH: absPath.default('/etc/nginx/collab/certs.map'),
  CERTS_NGINX_BIN: z.string().min(1).optional(),
  CERTS_NGINX_PREFIX: z.string().min(1).optional(),
  CERTS_NGINX_CONF: z.string().min(1).optional(),
  CERTS_RELOAD_CMD: z.string().optional(),
  CERTS_STATUS_URL: httpUrl(['http:']).default('http://127.0.0.1:8444/collab/certs-hash'),
  /** server-blocks layout: the HTTPS listen address of the Stage 1 config. */
  CERTS_HTTPS_LISTEN: z
    .string()
    .regex(/^[a-z0-9.:[\]-]+$/)
    .optional(),

  ACME_DIRECTORY_URL: httpUrl(['https:', 'http:']).optional(),
  ACME_EMAIL: z.string().email().optional(),
  /** PEM file of extra roots trusted for the ACME directory's HTTPS (a private CA, pebble in tests). */
  ACME_CA_BUNDLE: z.string().min(1).optional(),
  ACME_DNS_PROVIDER: z.enum(['challtestsrv']).default('challtestsrv'),
  ACME_DNS_CHALLTESTSRV_URL: httpUrl(['http:', 'https:']).optional(),
  ACME_DNS_PROPAGATION_WAIT_MS: int(0, 600_000).default(0),
  ACME_REGISTERED_DOMAIN: z.string().regex(domain, 'must be a lower-case DNS name').optional(),
  ACME_LIMIT_ORDERS_PER_3H: int(1, 100_000).default(300),
  ACME_LIMIT_CERTS_PER_DOMAIN_WEEK: int(1, 100_000).default(50),
  ACME_LIMIT_DUPLICATES_PER_WEEK: int(1, 1_000).default(5),
  ACME_LIMIT_FAILED_VALIDATIONS_PER_HOST_HOUR: int(1, 1_000).default(5),
};

export interface CertificatesConfig {
  enabled: boolean;
  issuer: 'acme' | 'dev-ca';
  renewBeforeDays: number;
  retryMinS: number;
  retryMaxS: number;
  reconcileS: number;
  extraGatewayFqdns: string[];
  layout: 'map' | 'server-blocks';
  dir: string;
  mapPath: string;
  nginx: { bin: string; prefix: string; conf: string; reloadCmd: string[]; statusUrl: string; httpsListen?: string };
  acme: {
    directoryUrl?: string;
    email?: string;
    caBundlePath?: string;
    dnsProvider: 'challtestsrv';
    challtestsrvUrl?: string;
    propagationWaitMs: number;
    registeredDomain?: string;
    limits: { ordersPer3h: number; certsPerDomainPerWeek: number; duplicatesPerWeek: number; failedValidationsPerHostPerHour: number };
  };
}

type Env = { NODE_ENV: string } & z.infer<z.ZodObject<typeof certificatesEnvShape>>;

export function certificatesConfig(e: Env, problems: { variable: string; message: string }[]): CertificatesConfig {
  const production = e.NODE_ENV === 'production';
  const issuer = e.CERTS_ISSUER ?? (production ? 'acme' : e.ACME_DIRECTORY_URL ? 'acme' : 'dev-ca');
  if (e.CERTS_ENABLED) {
    if (production && issuer !== 'acme') problems.push({ variable: 'CERTS_ISSUER', message: 'must be acme in production' });
    if (issuer === 'acme' && !e.ACME_DIRECTORY_URL)
      problems.push({ variable: 'ACME_DIRECTORY_URL', message: 'is required with CERTS_ISSUER=acme' });
    if (issuer === 'acme' && !e.ACME_DNS_CHALLTESTSRV_URL)
      problems.push({ variable: 'ACME_DNS_CHALLTESTSRV_URL', message: 'is required with ACME_DNS_PROVIDER=challtestsrv' });
    if (e.CERTS_LAYOUT === 'server-blocks' && !e.CERTS_HTTPS_LISTEN)
      problems.push({ variable: 'CERTS_HTTPS_LISTEN', message: 'is required with CERTS_LAYOUT=server-blocks' });
  }
  if (e.CERTS_RETRY_MAX_S < e.CERTS_RETRY_MIN_S)
    problems.push({ variable: 'CERTS_RETRY_MAX_S', message: 'must be at least CERTS_RETRY_MIN_S' });
  const extra = (e.CERTS_GATEWAY_FQDNS ?? '').split(',').filter(Boolean);
  for (const n of extra) if (!domain.test(n)) problems.push({ variable: 'CERTS_GATEWAY_FQDNS', message: `${n} is not a DNS name` });
  const bin = e.CERTS_NGINX_BIN ?? 'nginx';
  const prefix = e.CERTS_NGINX_PREFIX ?? '/etc/nginx/';
  const conf = e.CERTS_NGINX_CONF ?? '/etc/nginx/nginx.conf';
  return {
    enabled: e.CERTS_ENABLED,
    issuer,
    renewBeforeDays: e.CERTS_RENEW_BEFORE_DAYS,
    retryMinS: e.CERTS_RETRY_MIN_S,
    retryMaxS: e.CERTS_RETRY_MAX_S,
    reconcileS: e.CERTS_RECONCILE_S,
    extraGatewayFqdns: extra,
    layout: e.CERTS_LAYOUT,
    dir: e.CERTS_DIR,
    mapPath: e.CERTS_MAP_PATH,
    nginx: {
      bin,
      prefix,
      conf,
      reloadCmd: (e.CERTS_RELOAD_CMD ?? `${bin} -p ${prefix} -c ${conf} -s reload`).split(' ').filter(Boolean),
      statusUrl: e.CERTS_STATUS_URL,
      httpsListen: e.CERTS_HTTPS_LISTEN,
    },
    acme: {
      directoryUrl: e.ACME_DIRECTORY_URL,
      email: e.ACME_EMAIL,
      caBundlePath: e.ACME_CA_BUNDLE,
      dnsProvider: e.ACME_DNS_PROVIDER,
      challtestsrvUrl: e.ACME_DNS_CHALLTESTSRV_URL,
      propagationWaitMs: e.ACME_DNS_PROPAGATION_WAIT_MS,
      registeredDomain: e.ACME_REGISTERED_DOMAIN,
      limits: {
        ordersPer3h: e.ACME_LIMIT_ORDERS_PER_3H,
        certsPerDomainPerWeek: e.ACME_LIMIT_CERTS_PER_DOMAIN_WEEK,
        duplicatesPerWeek: e.ACME_LIMIT_DUPLICATES_PER_WEEK,
        failedValidationsPerHostPerHour: e.ACME_LIMIT_FAILED_VALIDATIONS_PER_HOST_HOUR,
      },
    },
  };
}
