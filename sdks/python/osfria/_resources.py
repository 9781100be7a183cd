"""The API's resources, as the client exposes them (``client.documents.upload(...)``)."""

import json
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from . import _multipart
from ._errors import APIError
from ._http import Stream, Transport

TERMINAL = ("indexed", "failed")
# the longest a request of documents.wait asks the platform to hold it (it allows 30): below proxies' read time-outs
WAIT_SECONDS = 20


def _id(value: str) -> str:
    """A path segment. Ids that are empty, '.', '..' or hold '/' are refused: no encoding stops every URL parser or
    proxy from resolving them into another endpoint's path."""
    text = _segment(str(value))
    if "/" in text:
        raise TypeError(f"an id cannot contain '/': {value!r}")
    return urllib.parse.quote(text, safe="")


def _segment(text: str) -> str:
    decoded = urllib.parse.unquote(text)
    if decoded in ("", ".", "..") or "/" in decoded and "/" not in text:
        raise TypeError(f"not a valid id for a URL path: {text!r}")
    return text


def _drop_none(values: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class ChatCompletions:
    def __init__(self, http: Transport):
        self._http = http

    def create(self, *, timeout: Optional[float] = None, **params: Any) -> Any:
        """``POST /chat/completions`` with OpenAI's arguments (``model``, ``messages``, ``max_tokens``, …), passed
        as they are. ``stream=True`` returns a :class:`Stream` of ``chat.completion.chunk`` objects."""
        if params.get("stream"):
            return self._http.stream("POST", "/chat/completions", params, timeout)
        return self._http.request("POST", "/chat/completions", json_body=params, timeout=timeout)


class Chat:
    def __init__(self, http: Transport):
        self.completions = ChatCompletions(http)


class Completions:
    def __init__(self, http: Transport):
        self._http = http

    def create(self, *, timeout: Optional[float] = None, **params: Any) -> Any:
        """``POST /completions`` (``model``, ``prompt``, …); ``stream=True`` returns a :class:`Stream`."""
        if params.get("stream"):
            return self._http.stream("POST", "/completions", params, timeout)
        return self._http.request("POST", "/completions", json_body=params, timeout=timeout)


class Models:
    def __init__(self, http: Transport):
        self._http = http

    def list(self) -> Any:
        """``{"object": "list", "data": [{"id", "object", "created", "owned_by"}, …]}``: models served now."""
        return self._http.request("GET", "/models")

    def retrieve(self, model: str) -> Any:
        # model ids may hold '/', which the router accepts in the path (and the entry port refuses encoded); a '.'
        # or '..' (or empty) segment is refused, so that no proxy resolves the id into another endpoint's path
        segments = [urllib.parse.quote(_segment(s), safe="") for s in str(model).split("/")]
        return self._http.request("GET", "/models/" + "/".join(segments))


class Documents:
    def __init__(self, http: Transport):
        self._http = http

    def upload(self, file: Any, collection: str, *, metadata: Optional[Dict[str, Any]] = None,
               confidential: Optional[bool] = None, department: Optional[str] = None,
               filename: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """Uploads a file (path, bytes or binary file object) into ``collection``. Answers at once with the document,
        ``status: processing``; :meth:`wait` follows it to ``indexed``. The same bytes again in the same collection
        answer the document that already holds them."""
        return self._send("POST", "", file, collection, metadata, confidential, department, filename, timeout)

    def update(self, document_id: str, file: Any, *, metadata: Optional[Dict[str, Any]] = None,
               confidential: Optional[bool] = None, department: Optional[str] = None,
               filename: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """A new version: content, name and metadata replaced; the document id stays, ``version`` grows by one."""
        return self._send("PUT", "/" + _id(document_id), file, None, metadata, confidential, department, filename,
                          timeout)

    def get(self, document_id: str) -> Any:
        return self._http.request("GET", "/documents/" + _id(document_id))

    def list(self, collection: str, *, page_size: int = 50) -> Iterator[Any]:
        """Every document of ``collection`` this key may read, fetching pages of ``page_size`` as it goes."""
        offset = 0
        while True:
            page = self._http.request("GET", "/documents",
                                      query={"collection": collection, "offset": offset, "limit": page_size})
            yield from page["data"]
            offset += len(page["data"])
            if not page["data"] or offset >= page["total"]:
                return

    def delete(self, document_id: str) -> None:
        self._http.request("DELETE", "/documents/" + _id(document_id), allow_empty=True)

    def wait(self, document_id: str, timeout: float = 300.0, on_progress: Optional[Callable[[Any], None]] = None,
             poll_interval: float = 1.0) -> Any:
        """Returns the document once it is ``indexed`` or ``failed`` (check ``status``; a failed one says why in
        ``error``), as soon as it is: each request asks the platform to answer when the document settles
        (``GET /documents/{id}?wait=``, at most 20 s a request), so nothing is polled. ``on_progress(document)`` is
        called with each answer; given one, each request is held at most ``poll_interval`` seconds (1 to 20), so that
        progress comes about as often as polling gave it. ``poll_interval`` is also the pause before asking again when
        the platform answered at once although the document is still processing (the key already holds all the waits
        it may, or a platform without ``wait``). With less than a second left, plain reads, the last one at
        ``timeout``. Raises ``TimeoutError`` after ``timeout`` seconds (``math.inf``: never)."""
        deadline = time.monotonic() + timeout
        longest = WAIT_SECONDS if on_progress is None else min(WAIT_SECONDS, max(1.0, poll_interval))
        failures = 0
        while True:
            left = deadline - time.monotonic()
            asked = time.monotonic()
            # clamped before int(): an infinite time-out asks for the longest wait. With less than a second left, a
            # plain read: a wait of 1 s would outlast the caller's time-out
            seconds = int(min(longest, left)) if left >= 1 else 0
            try:
                # retried here, not by the transport: a retry asks only for the time left, and never pauses past it
                document = self._http.request("GET", "/documents/" + _id(document_id),
                                              query={"wait": seconds} if seconds else None, retries=0,
                                              # the request's own time-out counts from its answer's expected end
                                              timeout=seconds + self._http.timeout if seconds else None)
            except APIError as e:
                pause = self._http.retry_pause(e, failures)
                failures += 1
                if pause is None or time.monotonic() + pause >= deadline:
                    raise
                time.sleep(pause)
                continue
            failures = 0
            if on_progress is not None:
                on_progress(document)
            if document["status"] in TERMINAL:
                return document
            answered_at_once = time.monotonic() - asked < seconds / 2 or seconds == 0
            if time.monotonic() >= deadline:
                raise TimeoutError(f"document {document_id} still {document['status']} after {timeout} s")
            # a pause that would pass the deadline ends at it, for one last read
            time.sleep(max(0.0, min(poll_interval if answered_at_once else 0.0, deadline - time.monotonic())))

    def _send(self, method, suffix, file, collection, metadata, confidential, department, filename, timeout):
        content, name = _multipart.read_file(file, filename)
        meta = dict(metadata or {})
        if confidential is not None:
            meta["confidential"] = confidential
        if department is not None:
            meta["department"] = department
        body, content_type = _multipart.encode(
            {"collection": collection, "metadata": json.dumps(meta) if meta else None}, content, name)
        return self._http.request(method, "/documents" + suffix, body=body, content_type=content_type,
                                  timeout=timeout)


class Webhooks:
    """Subscriptions. A key sees and changes its own; an admin key all. Verify deliveries with
    :func:`osfria.webhooks.verify`."""

    def __init__(self, http: Transport):
        self._http = http

    def create(self, url: str, events: Iterable[str], *, secret: Optional[str] = None,
               active: Optional[bool] = None) -> Any:
        """The answer holds ``secret`` (generated ``whsec_…`` unless given): it is shown this once."""
        return self._http.request("POST", "/webhooks", json_body=_drop_none(
            {"url": url, "events": list(events), "secret": secret, "active": active}))

    def list(self) -> List[Any]:
        return self._http.request("GET", "/webhooks")["data"]

    def get(self, webhook_id: str) -> Any:
        return self._http.request("GET", "/webhooks/" + _id(webhook_id))

    def update(self, webhook_id: str, *, url: Optional[str] = None, events: Optional[Iterable[str]] = None,
               secret: Optional[str] = None, active: Optional[bool] = None) -> Any:
        """Changes the given fields only; ``active=True`` re-activates a disabled subscription."""
        return self._http.request("PUT", "/webhooks/" + _id(webhook_id), json_body=_drop_none(
            {"url": url, "events": None if events is None else list(events), "secret": secret, "active": active}))

    def delete(self, webhook_id: str) -> None:
        self._http.request("DELETE", "/webhooks/" + _id(webhook_id), allow_empty=True)

    def deliveries(self, webhook_id: str, *, limit: Optional[int] = None) -> List[Any]:
        """Recent deliveries, newest first, each with its attempts (``history``)."""
        return self._http.request("GET", f"/webhooks/{_id(webhook_id)}/deliveries", query={"limit": limit})["data"]

    def replay(self, webhook_id: str, delivery_id: Optional[str] = None, *, since: Optional[str] = None) -> Any:
        """Sends one delivery again (same ``webhook-id``), or with no ``delivery_id`` every failed or exhausted one
        since ``since`` (ISO-8601; default a day). Answers ``{"replayed": n}``."""
        if delivery_id is not None:
            return self._http.request("POST", f"/webhooks/{_id(webhook_id)}/deliveries/{_id(delivery_id)}/replay")
        return self._http.request("POST", f"/webhooks/{_id(webhook_id)}/replay", query={"since": since})

    def ping(self, webhook_id: str) -> Any:
        """A signed ``webhook.ping`` delivery to the subscription's URL; answers ``{"delivery_id": …}``."""
        return self._http.request("POST", f"/webhooks/{_id(webhook_id)}/ping")


__all__ = ["Chat", "Completions", "Models", "Documents", "Webhooks", "Stream"]
