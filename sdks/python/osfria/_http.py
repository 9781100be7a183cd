"""One request to the platform: connection, time-out, retries with back-off, errors, SSE streams."""

import email.utils
import http.client
import json
import random
import socket
import ssl
import time
import urllib.parse
from typing import Any, Dict, Iterator, Mapping, Optional

from ._errors import APIConnectionError, APIError, APITimeoutError, error_for
from ._objects import wrap
from ._version import __version__

USER_AGENT = f"osfria-python/{__version__}"
# 429 and 503 say "later"; 502 and 504 are the entry port or ingress meeting a service that is restarting.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Retrying must never repeat work: only these methods are retried whenever the request may have reached the platform.
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})


def api_root(base_url: str) -> str:
    """The documentation's base URL is the host: ``/api/v1`` is appended, unless the URL already ends in it or ``/v1``."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v1") or base.endswith("/v1"):
        return base
    return base + "/api/v1"


def retry_after_seconds(headers: Mapping[str, str]) -> Optional[float]:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Transport:
    def __init__(self, api_key: str, base_url: str, timeout: float, max_retries: int, max_retry_wait: float,
                 ssl_context: Optional[ssl.SSLContext]):
        self.api_key = api_key
        self.root = urllib.parse.urlsplit(api_root(base_url))
        if self.root.scheme not in ("http", "https") or not self.root.hostname:
            raise ValueError(f"base_url must be an http or https URL, not {base_url!r}")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.ssl_context = ssl_context

    # -- the public calls -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json_body: Any = None, body: Optional[bytes] = None,
                content_type: Optional[str] = None, query: Optional[Dict[str, Any]] = None,
                timeout: Optional[float] = None, allow_empty: bool = False, retries: Optional[int] = None) -> Any:
        """Sends the request (retried as configured, or ``retries`` times) and returns the parsed JSON answer."""
        conn, response = self._send(method, path, json_body, body, content_type, query, timeout, stream=False,
                                    retries=retries)
        try:
            raw = response.read()
        except socket.timeout as e:
            raise APITimeoutError(f"no complete answer within {self._timeout(timeout)} s") from e
        except OSError as e:
            raise APIConnectionError(f"the connection broke while reading the answer: {e}") from e
        finally:
            conn.close()
        if not raw:
            return None if allow_empty else wrap({})
        return wrap(json.loads(raw.decode("utf-8")))

    def stream(self, method: str, path: str, json_body: Any, timeout: Optional[float] = None) -> "Stream":
        conn, response = self._send(method, path, json_body, None, None, None, timeout, stream=True)
        return Stream(conn, response)

    # -- sending with retries -----------------------------------------------------------------------------

    def _send(self, method, path, json_body, body, content_type, query, timeout, stream, retries=None):
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            content_type = "application/json"
        target = self.root.path + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urllib.parse.urlencode(pairs)
        headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": USER_AGENT,
                   "Accept": "text/event-stream" if stream else "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        attempt = 0
        while True:
            try:
                conn, response = self._once(method, target, body, headers, timeout)
            except APITimeoutError:
                raise  # a time-out is the caller's limit: never doubled behind its back
            except APIConnectionError as e:
                # a POST/PUT/PATCH whose bytes may have left is never resent: the platform may be doing its work
                if method not in IDEMPOTENT and getattr(e, "sent", True):
                    raise
                self._pause_or_raise(attempt, None, e, retries)
                attempt += 1
                continue
            if response.status < 300:
                return conn, response
            if response.status < 400:
                location = response.getheader("location")
                conn.close()
                raise APIError(f"the base URL {self.root.scheme}://{self.root.netloc} redirected ({response.status}) to "
                               f"{location!r}: configure the final URL (e.g. https instead of http); the request was "
                               f"not followed, so the API key was not sent elsewhere", status=response.status)
            error = self._error(conn, response)
            if not self._may_retry(method, response.status, error):
                raise error
            self._pause_or_raise(attempt, getattr(error, "retry_after", None), error, retries)
            attempt += 1

    @staticmethod
    def _may_retry(method: str, status: int, error: APIError) -> bool:
        """GET/HEAD/DELETE: 429, 502, 503, 504. Others only when the platform certainly did nothing: 429, or a 503
        in the platform's own JSON error shape (a 502/504 or a proxy's 503 may hide work already started)."""
        if method in IDEMPOTENT:
            return status in RETRY_STATUSES
        if status == 429:
            return True
        return status == 503 and isinstance(error.body, dict) and isinstance(error.body.get("error"), dict)

    def _pause_or_raise(self, attempt: int, retry_after: Optional[float], error: APIError,
                        retries: Optional[int] = None) -> None:
        """Sleeps before the next attempt: ``Retry-After`` if given, else exponential back-off with jitter.
        Raises ``error`` when no attempt is left or the wait would exceed ``max_retry_wait``."""
        delay = self._pause(attempt, retry_after, self.max_retries if retries is None else retries)
        if delay is None:
            raise error
        time.sleep(delay)

    def _pause(self, attempt: int, retry_after: Optional[float], retries: int) -> Optional[float]:
        if attempt >= retries:
            return None
        delay = retry_after if retry_after is not None else min(0.5 * 2 ** attempt, 8.0) * (0.75 + random.random() / 4)
        return None if delay > self.max_retry_wait else delay

    def retry_pause(self, error: APIError, attempt: int) -> Optional[float]:
        """For a caller retrying a GET itself (after ``retries=0``): the pause before attempt ``attempt + 1`` as the
        transport would take it, or None when the transport would not retry."""
        if isinstance(error, APITimeoutError):
            return None
        if not isinstance(error, APIConnectionError) and error.status not in RETRY_STATUSES:
            return None
        return self._pause(attempt, getattr(error, "retry_after", None), self.max_retries)

    def _once(self, method, target, body, headers, timeout):
        limit = self._timeout(timeout)
        host, port = self.root.hostname, self.root.port
        if self.root.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=limit, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=limit)
        try:
            conn.connect()  # refused / DNS / connect time-out: nothing was sent, any method may be retried
        except socket.timeout as e:
            conn.close()
            raise APITimeoutError(f"no connection to {host}:{port or ''} within {limit} s") from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            error = APIConnectionError(f"cannot reach {self.root.scheme}://{self.root.netloc}: {e}")
            error.sent = False
            raise error from e
        try:
            conn.request(method, target, body=body, headers=headers)
            return conn, conn.getresponse()
        except socket.timeout as e:
            conn.close()
            raise APITimeoutError(f"no answer from {host}:{port or ''} within {limit} s") from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            error = APIConnectionError(f"the connection to {self.root.scheme}://{self.root.netloc} broke after the "
                                       f"request was sent: {e}")
            error.sent = True
            raise error from e

    def _timeout(self, timeout: Optional[float]) -> float:
        return self.timeout if timeout is None else timeout

    @staticmethod
    def _error(conn, response) -> APIError:
        headers = {k.lower(): v for k, v in response.getheaders()}
        try:
            raw = response.read()
        except OSError:
            raw = b""
        finally:
            conn.close()
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = raw.decode("utf-8", "replace")
        return error_for(response.status, body, headers, retry_after_seconds(headers))


class Stream:
    """The chunks of a ``stream=True`` answer, from its server-sent events. Iterate it once; leaving the loop
    early (``break``), ``close()`` or a ``with`` block closes the connection, which cancels the generation."""

    def __init__(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse):
        self._conn = conn
        self.response = response
        self.request_id = response.getheader("x-request-id")
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        try:
            for data in self._events():
                if data == "[DONE]":
                    return
                chunk = json.loads(data)
                if isinstance(chunk, dict) and isinstance(chunk.get("error"), dict):
                    detail = chunk["error"]
                    raise APIError(str(detail.get("message") or "the stream failed"), status=self.response.status,
                                   code=detail.get("code"), type=detail.get("type"), request_id=self.request_id,
                                   body=chunk)
                yield wrap(chunk)
        finally:
            self.close()

    def _events(self) -> Iterator[str]:
        data = []
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if not line:
                    if data:
                        yield "\n".join(data)
                        data = []
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        except socket.timeout as e:
            raise APITimeoutError("the stream fell silent longer than the time-out") from e
        except OSError as e:
            raise APIConnectionError(f"the stream's connection broke: {e}") from e
        if data:
            yield "\n".join(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.response.close()
            self._conn.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
