/**
 * Errors with stable codes. Domain and application code throws these; libs/http maps them to
 * HTTP statuses in one place (problem-details JSON). Nothing outside libs/http knows about HTTP.
 */
export interface FieldProblem {
  /** Dotted path into the request, e.g. `event.port` or `[3].event.name`; `authorization` for the header. */
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
  get field(): string | undefined {
    return this.problems[0]?.field;
  }
}

/** The input is malformed or outside its allow-list. */
export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  static of(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }]);
  }
}

/** No valid credentials. */
export class AuthenticationError extends AppError {
  readonly code = 'unauthenticated';
  constructor(message: string) {
    super(message, [{ field: 'authorization', message }]);
  }
}

/** Valid credentials, but not for this. */
export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
  static of(field: string, message: string): ForbiddenError {
    return new ForbiddenError(`${field}: ${message}`, [{ field, message }]);
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
}

/** The request conflicts with current state (other than an optimistic-concurrency race). */
export class ConflictError extends AppError {
  readonly code = 'conflict';
  static of(field: string, message: string): ConflictError {
    return new ConflictError(`${field}: ${message}`, [{ field, message }]);
  }
}

/** A dependency (database, queue) is away; the client may retry. */
export class UnavailableError extends AppError {
  readonly code = 'unavailable';
}
