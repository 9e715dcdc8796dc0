import { ROLES, Role, tokenServiceFor } from '@app/auth';
import { EXIT, UsageError, type OpsContext } from '../cli';

/** `ops mint-token`: a signed token for a role, printed on stdout. */
export async function mintTokenCommand(ctx: OpsContext): Promise<number> {
  const { values } = ctx.parse({
    role: { type: 'string' },
    sub: { type: 'string' },
    org: { type: 'string' },
    project: { type: 'string' },
    projects: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
  });
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError('--ttl must be a positive integer');
  const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
  const projects = str(values.projects);
  const token = tokenServiceFor(ctx.config).sign(
    { sub: str(values.sub) ?? `${role}-cli`, role, org: str(values.org), project: str(values.project), projects: projects?.split(',') },
    ttl,
  );
  console.log(token);
  return EXIT.ok;
}
