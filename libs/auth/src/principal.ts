/** Who a verified token speaks for. The container's identity comes from `sub` alone. */
export type Role = 'container' | 'operator' | 'viewer' | 'platform';
export const ROLES: readonly Role[] = ['container', 'operator', 'viewer', 'platform'];

/** The claims we issue beyond the registered ones (iss, aud, exp, iat, sub, jti). */
export interface TokenClaims {
  sub: string;
  role: Role;
  /** Organisation the subject belongs to (containers, viewers). */
  org?: string;
  /** The container's project. */
  project?: string;
  /** Viewer scope: projects within `org`; absent means the whole org. */
  projects?: string[];
  /** Container token version: a token whose version is behind the container's is revoked. */
  tv?: number;
}

export interface Principal {
  role: Role;
  subject: string;
  orgId?: string;
  projectId?: string;
  projectIds?: string[];
  tokenVersion?: number;
  tokenId?: string;
  expiresAt: number;
}
