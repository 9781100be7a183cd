"""OsfriaClient: the one object an application holds."""

import os
import ssl
from typing import Any, Dict, List, Optional

from ._http import Transport
from ._resources import Chat, Completions, Documents, Models, Webhooks


class OsfriaClient:
    """A client of one Osfria platform.

    ``base_url`` is the platform's host (``https://osfria.entreprise.local``); the SDK calls ``<base_url>/api/v1/…``.
    A URL that already ends in ``/api/v1`` or ``/v1`` is used as it is. Both default to the environment:
    ``OSFRIA_API_KEY``, ``OSFRIA_BASE_URL`` (else ``http://localhost:8080``, the local platform).

    ``timeout`` (seconds) bounds each wait for the platform: connecting, the answer, and each gap in a stream.
    ``max_retries``: how many times a request is sent again after a connection error, 429, 502, 503 or 504, after
    ``Retry-After`` when the platform gives one, else exponential back-off with jitter; never after a wait longer
    than ``max_retry_wait`` (the error is raised instead: a daily quota says "tomorrow").
    """

    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None, *, timeout: float = 60.0,
                 max_retries: int = 2, max_retry_wait: float = 30.0, ssl_context: Optional[ssl.SSLContext] = None):
        api_key = api_key or os.environ.get("OSFRIA_API_KEY")
        if not api_key:
            raise ValueError("no API key: pass api_key= or set OSFRIA_API_KEY")
        self.base_url = base_url or os.environ.get("OSFRIA_BASE_URL") or "http://localhost:8080"
        self._http = Transport(api_key, self.base_url, timeout, max_retries, max_retry_wait, ssl_context)
        self.chat = Chat(self._http)
        self.completions = Completions(self._http)
        self.models = Models(self._http)
        self.documents = Documents(self._http)
        self.webhooks = Webhooks(self._http)

    def search(self, query: str, collection: str, *, filters: Optional[Dict[str, Any]] = None,
               top_k: Optional[int] = None, score_threshold: Optional[float] = None, mode: Optional[str] = None) -> Any:
        """``POST /search``: the passages of ``collection`` this key may read nearest to ``query``.
        ``filters``: metadata equality (a list means any of); ``mode``: ``dense``, ``keyword`` or ``hybrid``.
        Answers ``{"results": [{"document_id", "chunk_id", "content", "score", "metadata"}], "total_results",
        "search_time_ms"}``."""
        body = {"query": query, "collection": collection, "filters": filters, "top_k": top_k,
                "score_threshold": score_threshold, "mode": mode}
        return self._http.request("POST", "/search", json_body={k: v for k, v in body.items() if v is not None})

    def me(self) -> Any:
        """``GET /me``: this client's key as the platform knows it: ``name``, ``roles``, ``admin``, ``departments``,
        ``confidential``, ``collections`` (``read``, ``write``, ``read_any``, ``write_any``, ``truncated``) and
        ``quotas``. Only this key, never any key material."""
        return self._http.request("GET", "/me")
