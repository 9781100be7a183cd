"""Osfria's Python SDK: ``from osfria import OsfriaClient``. Standard library only."""

from . import webhooks
from ._client import OsfriaClient
from ._errors import (APIConnectionError, APIError, APIStatusError, APITimeoutError, AuthenticationError,
                      BadRequestError, ConflictError, InsufficientStorageError, InternalServerError, NotFoundError,
                      OsfriaError,
                      PermissionDeniedError, RateLimitError, ServiceUnavailableError, UnprocessableEntityError)
from ._http import Stream
from ._objects import OsfriaObject
from ._version import __version__
from .webhooks import WebhookVerificationError

__all__ = ["OsfriaClient", "Stream", "OsfriaObject", "webhooks", "WebhookVerificationError", "__version__",
           "OsfriaError", "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
           "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
           "UnprocessableEntityError", "RateLimitError", "InternalServerError", "ServiceUnavailableError",
           "InsufficientStorageError"]
