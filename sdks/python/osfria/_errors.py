"""Exceptions, one class per kind of failure, read from the platform's OpenAI-shaped error JSON."""

from typing import Any, Mapping, Optional


class OsfriaError(Exception):
    """Base of every exception this SDK raises."""


class APIError(OsfriaError):
    """A request that did not succeed. ``status`` is None when no HTTP answer was received."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 type: Optional[str] = None, request_id: Optional[str] = None, body: Any = None,
                 headers: Optional[Mapping[str, str]] = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_code = status  # the OpenAI SDK's name
        self.code = code
        self.type = type
        self.request_id = request_id
        self.body = body
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        parts = [str(self.status)] if self.status else []
        if self.code:
            parts.append(self.code)
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class APIConnectionError(APIError):
    """The platform could not be reached (refused, reset, DNS, TLS)."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's time-out."""


class APIStatusError(APIError):
    """The platform answered with an error status."""


class BadRequestError(APIStatusError):
    """400 (also 413 too large, 415 unsupported type): the request itself is wrong."""


class AuthenticationError(APIStatusError):
    """401: no key, an unknown key or a revoked one."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (e.g. write to a collection it was not given)."""


class NotFoundError(APIStatusError):
    """404: unknown, or not visible to this key (the platform answers both alike)."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422: e.g. a password-protected document."""


class RateLimitError(APIStatusError):
    """429: a rate limit or a token quota. ``retry_after`` is in seconds (None if the platform gave none)."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """500 and other 5xx answers without a class of their own."""


class ServiceUnavailableError(InternalServerError):
    """503: a backend, the database or a quota ledger is unavailable for the moment."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InsufficientStorageError(InternalServerError):
    """507: the key's storage quota (``code`` ``storage_quota_exceeded``) or the platform's file volume
    (``insufficient_storage``) is full; nothing was stored, and sending it again will not help before documents are
    deleted or room is made. Not retried."""


_BY_STATUS = {400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
              409: ConflictError, 413: BadRequestError, 415: BadRequestError, 422: UnprocessableEntityError,
              429: RateLimitError, 503: ServiceUnavailableError, 507: InsufficientStorageError}


def error_for(status: int, body: Any, headers: Mapping[str, str], retry_after: Optional[float]) -> APIStatusError:
    """The exception for an error answer: ``{"error": {"message", "type", "code"}}``, or whatever came."""
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        message = str(detail.get("message") or f"HTTP {status}")
        code, type_ = detail.get("code"), detail.get("type")
    else:
        message = (body if isinstance(body, str) and body else f"HTTP {status}")[:500]
        code = type_ = None
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    kwargs = dict(status=status, code=code, type=type_, request_id=headers.get("x-request-id"), body=body,
                  headers=headers)
    if cls in (RateLimitError, ServiceUnavailableError):
        return cls(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
