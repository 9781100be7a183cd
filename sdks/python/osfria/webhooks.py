"""Checking that a webhook delivery comes from the platform, unchanged and recent.

A delivery carries three HMAC-SHA256 signatures under the subscription's secret (for a ``whsec_`` secret the key
is its base64 part, as Standard Webhooks says; any other secret is used as its UTF-8 bytes):

* ``webhook-signature: v1,<base64>`` over ``<webhook-id>.<webhook-timestamp>.<body>`` (Standard Webhooks);
* ``X-Osfria-Signature: sha256=<hex>`` over the body;
* the body's last field, ``"signature":"sha256=<hex>"``, over the body without that field.

:func:`verify` checks all three on the raw bytes received (never on re-serialised JSON) and the timestamp.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any, Mapping, Optional, Union

from ._errors import OsfriaError
from ._objects import wrap

DEFAULT_TOLERANCE = 300  # seconds, Standard Webhooks' usual bound

_SECONDS = re.compile(r"[0-9]{1,12}\Z")
_BODY_SIGNATURE = re.compile(rb',"signature":"sha256=([0-9a-f]{64})"\}\Z')


class WebhookVerificationError(OsfriaError):
    """The delivery is not authentic, was changed, or is too old (or from the future)."""


def verify(body: Union[bytes, str], headers: Mapping[str, str], secret: str, tolerance: float = DEFAULT_TOLERANCE,
           now: Optional[float] = None) -> Any:
    """Returns the delivery's payload (``event``, ``timestamp``, ``data``, ``signature``) once every check passed;
    raises :class:`WebhookVerificationError` otherwise. ``body`` is the request body exactly as received."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    lower = {k.lower(): v for k, v in headers.items()}
    message_id = lower.get("webhook-id")
    timestamp = lower.get("webhook-timestamp")
    standard = lower.get("webhook-signature")
    osfria = lower.get("x-osfria-signature")
    if not message_id or not timestamp or not standard or not osfria:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp, webhook-signature or X-Osfria-Signature")
    if not _SECONDS.match(timestamp):
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {age:.0f} s off the clock (tolerance {tolerance} s):"
                                       " a stale delivery or a replay")
    key = _key(secret)

    expected = base64.b64encode(_hmac(key, f"{message_id}.{timestamp}.".encode("utf-8") + raw)).decode("ascii")
    candidates = [s.split(",", 1)[1] for s in standard.split() if s.startswith("v1,")]
    if not any(_same(expected, c) for c in candidates):
        raise WebhookVerificationError("webhook-signature does not match")
    if not _same("sha256=" + _hmac(key, raw).hex(), osfria.strip()):
        raise WebhookVerificationError("X-Osfria-Signature does not match")
    match = _BODY_SIGNATURE.search(raw)
    if match is None:
        raise WebhookVerificationError("the body has no signature field at its end")
    unsigned = raw[:match.start()] + b"}"
    if not hmac.compare_digest(_hmac(key, unsigned).hex().encode("ascii"), match.group(1)):
        raise WebhookVerificationError("the body's signature does not match")
    return wrap(json.loads(raw.decode("utf-8")))


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            raise WebhookVerificationError("a whsec_ secret is base64 after its prefix") from None
    return secret.encode("utf-8")


def _same(expected: str, received: str) -> bool:
    """Constant-time; on bytes, since a header may hold any character (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8", "replace"))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


__all__ = ["verify", "WebhookVerificationError", "DEFAULT_TOLERANCE"]
