import { HttpException } from '@nestjs/common';
import { AppError, FieldProblem } from '@app/common';
import { EventStoreError } from '@app/event-store';
import { isDatabaseUnavailable } from '@app/database';

/** RFC 9457 problem details, plus the stable `code` and the fields at fault. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  errors?: FieldProblem[];
}

const APP_STATUS: Record<string, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  rate_limited: 429,
  concurrency_conflict: 409,
  event_id_conflict: 422,
  invalid_event_data: 400,
  store_unavailable: 503,
  invalid_json: 400,
};

/** Fastify's own errors (raised before a route handler runs). */
const FASTIFY: Record<string, { status: number; code: string; field: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', field: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', field: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', field: 'content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', field: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', field: 'body' },
  FST_ERR_BAD_URL: { status: 400, code: 'validation_failed', field: 'path' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', field: 'path' },
};
/** Fastify's messages for these quote the URL: replaced. */
const FASTIFY_DETAIL: Record<string, string> = {
  FST_ERR_BAD_URL: 'must be valid percent-encoded UTF-8',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is longer than any route accepts',
};

function titleFor(status: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
        405: 'Method Not Allowed',
        408: 'Request Timeout',
        409: 'Conflict',
        413: 'Payload Too Large',
        414: 'URI Too Long',
        415: 'Unsupported Media Type',
        422: 'Unprocessable Content',
        429: 'Too Many Requests',
        503: 'Service Unavailable',
      } as Record<number, string>
    )[status] ?? 'Internal Server Error'
  );
}

function problem(status: number, code: string, detail: string, errors?: FieldProblem[]): Problem {
  const p: Problem = { type: `urn:collab-gateway:problem:${code}`, title: titleFor(status), status, code, detail };
  if (errors?.length) {
    p.field = errors[0].field;
    p.errors = errors;
  }
  return p;
}

/** Errors that reach us as a bare status (Fastify's, sometimes wrapped by Nest). */
function byStatus(status: number, message: string): Problem {
  if (status === 400) return problem(400, 'invalid_json', message, [{ field: 'body', message }]);
  if (status === 413) return problem(413, 'body_too_large', message, [{ field: 'body', message }]);
  if (status === 415)
    return problem(415, 'unsupported_media_type', 'only application/json is accepted', [
      { field: 'content-type', message: 'only application/json is accepted' },
    ]);
  // Nest's "Cannot GET /…" echoes the URL (a 5,000-character one included): not repeated back.
  if (status === 404)
    return problem(404, 'not_found', 'no route matches this method and path', [{ field: 'path', message: 'no such route' }]);
  return problem(status, `http_${status}`, message);
}

/** Maps any thrown value to a problem; the one place where errors meet HTTP statuses. */
export function toProblem(err: unknown): Problem {
  if (err instanceof AppError) return problem(APP_STATUS[err.code] ?? 500, err.code, err.message, err.problems);
  if (err instanceof EventStoreError) {
    if (err.code === 'event_id_conflict')
      return problem(422, err.code, err.message, [{ field: 'event_id', message: 'already used for a different event' }]);
    // The database's own message never leaves: it names tables, types and bytes.
    const detail =
      err.code === 'store_unavailable'
        ? 'the event store is unavailable; retry with the same event_id'
        : err.code === 'invalid_event_data'
          ? 'the event data was refused by the store'
          : err.message;
    return problem(APP_STATUS[err.code] ?? 500, err.code, detail);
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e?.code && FASTIFY[e.code]) {
    const f = FASTIFY[e.code];
    const detail = FASTIFY_DETAIL[e.code] ?? e.message ?? f.code;
    return problem(f.status, f.code, detail, [{ field: f.field, message: detail }]);
  }
  // A body parser other than ours (json-body.ts) refusing its input.
  if (err instanceof SyntaxError || e?.statusCode === 400) {
    return problem(400, 'invalid_json', e.message ?? 'invalid JSON', [{ field: 'body', message: e.message ?? 'invalid JSON' }]);
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    // Our code throws AppErrors, never HttpExceptions: a 400 here is Nest's wrapping of a body
    // parse failure.
    return byStatus(status, err.message);
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return byStatus(e.statusCode, e.message ?? titleFor(e.statusCode));
  }
  // PostgreSQL away (refused, restarting, no connection within DATABASE_CONNECT_TIMEOUT_MS) in any
  // query outside the store's append (token checks, stream loads, reads): retryable, not a bug.
  if (isDatabaseUnavailable(err)) return problem(503, 'unavailable', 'the database is unavailable; retry shortly (with the same event_id)');
  return problem(500, 'internal_error', 'internal error');
}
