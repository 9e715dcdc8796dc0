/** Socket-level failures of the connection to PostgreSQL (node and pg error codes). */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** What node-postgres says when a connection breaks or cannot be had in time (it sets no code). */
const PG_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused|connect ECONNREFUSED)/;

/**
 * True when an error means "PostgreSQL is away" (refused, dropped, shutting down, starting up,
 * out of connections) rather than "this request is wrong": the client may retry, so it is a 503.
 * SQLSTATE classes 08 (connection exception), 57P (operator intervention: shutdown, starting up)
 * and 53 (insufficient resources). Also looks through TypeORM's QueryFailedError.driverError.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; driverError?: unknown } | undefined, depth = 0; e && depth < 3; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK.has(code) || /^(08|57P|53)/.test(code)) return true;
    if (!code && typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? (e as { cause?: unknown }).cause) as typeof e;
  }
  return false;
}
