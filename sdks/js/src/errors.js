// Exceptions, one class per kind of failure, read from the platform's OpenAI-shaped error JSON.

export class OsfriaError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request that did not succeed. `status` is undefined when no HTTP answer was received. */
export class APIError extends OsfriaError {
  constructor(message, { status, code, type, requestId, body, headers, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.status = status;
    this.code = code ?? null;
    this.type = type ?? null;
    this.requestId = requestId ?? null;
    this.body = body;
    this.headers = headers ?? {};
  }
}

/** The platform could not be reached (refused, reset, DNS, TLS). */
export class APIConnectionError extends APIError {}
/** No answer within the client's time-out. */
export class APITimeoutError extends APIConnectionError {}
/** The platform answered with an error status. */
export class APIStatusError extends APIError {}
/** 400 (also 413 too large, 415 unsupported type). */
export class BadRequestError extends APIStatusError {}
/** 401: no key, an unknown or a revoked one. */
export class AuthenticationError extends APIStatusError {}
/** 403: the key may not do this. */
export class PermissionDeniedError extends APIStatusError {}
/** 404: unknown, or not visible to this key (answered alike). */
export class NotFoundError extends APIStatusError {}
/** 409. */
export class ConflictError extends APIStatusError {}
/** 422. */
export class UnprocessableEntityError extends APIStatusError {}
/** 429: a rate limit or a token quota; `retryAfter` in seconds (null if none was given). */
export class RateLimitError extends APIStatusError {
  constructor(message, options = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter ?? null;
  }
}
/** 500 and other 5xx without a class of their own. */
export class InternalServerError extends APIStatusError {}
/** 503: a backend, the database or the quota ledger is unavailable for the moment. */
export class ServiceUnavailableError extends InternalServerError {
  constructor(message, options = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter ?? null;
  }
}

/**
 * 507: the key's storage quota (`code` `storage_quota_exceeded`) or the platform's file volume (`insufficient_storage`)
 * is full; nothing was stored, and sending it again will not help before documents are deleted or room is made.
 * Not retried.
 */
export class InsufficientStorageError extends InternalServerError {}

const BY_STATUS = {
  400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
  409: ConflictError, 413: BadRequestError, 415: BadRequestError, 422: UnprocessableEntityError,
  429: RateLimitError, 503: ServiceUnavailableError, 507: InsufficientStorageError,
};

/** The exception for an error answer: `{"error": {"message", "type", "code"}}`, or whatever came. */
export function errorFor(status, body, headers, retryAfter) {
  const detail = body && typeof body === 'object' && typeof body.error === 'object' ? body.error : null;
  const message = detail?.message
    ? String(detail.message)
    : (typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${status}`);
  const Class = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIStatusError);
  return new Class(`${status}${detail?.code ? ' ' + detail.code : ''}: ${message}`, {
    status, code: detail?.code, type: detail?.type, requestId: headers['x-request-id'], body, headers, retryAfter,
  });
}
