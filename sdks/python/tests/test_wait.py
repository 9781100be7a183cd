import http.server
import json
import math
import threading
import time
import unittest
import urllib.parse

import support  # noqa: F401 (puts the SDK on the path)
from osfria import APIError, OsfriaClient


class Platform:
    """A loopback stand-in for GET /documents/{id}: the document is indexed ``indexed_after`` seconds from now; a
    request with ``wait`` is held until then (or its ``wait`` passes), as the platform does, unless ``capped``."""

    def __init__(self, indexed_after: float, capped: int = 0, failing: bool = False):
        self.indexed_at = time.monotonic() + indexed_after
        self.capped = capped
        self.failing = failing
        self.seen = []
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                platform.seen.append((time.monotonic(), query.get("wait", [None])[0]))
                wait = query.get("wait")
                if wait and len(platform.seen) > platform.capped:
                    time.sleep(max(0.0, min(platform.indexed_at, time.monotonic() + int(wait[0])) - time.monotonic()))
                status = "indexed" if time.monotonic() >= platform.indexed_at else "processing"
                body = json.dumps({"document_id": "doc_x", "status": status}).encode()
                if platform.failing:  # the database lost during the wait: its read at the end answers 503
                    body = b'{"error":{"message":"database unavailable","type":"service_unavailable","code":"database_unavailable"}}'
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.client = OsfriaClient(api_key="sk-osfria-x", base_url=f"http://127.0.0.1:{self.server.server_address[1]}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WaitTest(unittest.TestCase):
    """documents.wait asks the platform to answer once the document settles: no poll rhythm in what the user waits."""

    def test_returns_as_soon_as_the_document_is_indexed_not_at_a_poll(self):
        platform = Platform(indexed_after=1.3)
        try:
            document = platform.client.documents.wait("doc_x", timeout=60)
            late = time.monotonic() - platform.indexed_at
        finally:
            platform.close()
        self.assertEqual("indexed", document.status)
        # polling every second would have answered at 2 s, 0.7 s late
        self.assertLess(late, 0.3, f"returned {late:.2f} s after the document was indexed")
        self.assertEqual(["20"], [wait for _, wait in platform.seen], "one request, asking to be held up to 20 s")

    def test_with_a_progress_callback_each_request_is_held_at_most_poll_interval(self):
        platform = Platform(indexed_after=2.5)
        try:
            seen = []
            document = platform.client.documents.wait("doc_x", timeout=60, on_progress=seen.append, poll_interval=1)
            late = time.monotonic() - platform.indexed_at
        finally:
            platform.close()
        self.assertEqual("indexed", document.status)
        self.assertLess(late, 0.3, f"returned {late:.2f} s after the document was indexed")
        waits = [wait for _, wait in platform.seen]
        self.assertTrue(len(waits) >= 3 and set(waits) == {"1"}, waits)  # progress about every second
        self.assertEqual(len(waits), len(seen))
        self.assertEqual("indexed", seen[-1].status)

    def test_an_infinite_time_out_asks_for_the_longest_wait(self):
        platform = Platform(indexed_after=0.3)
        try:
            document = platform.client.documents.wait("doc_x", timeout=math.inf)
        finally:
            platform.close()
        self.assertEqual("indexed", document.status)
        self.assertEqual(["20"], [wait for _, wait in platform.seen])

    def test_a_request_answered_at_once_is_asked_again_after_poll_interval(self):
        platform = Platform(indexed_after=0.5, capped=2)  # the key's waits all taken: answered at once twice
        try:
            document = platform.client.documents.wait("doc_x", timeout=60, poll_interval=0.2)
        finally:
            platform.close()
        self.assertEqual("indexed", document.status)
        self.assertEqual(3, len(platform.seen), platform.seen)
        gaps = [b[0] - a[0] for a, b in zip(platform.seen, platform.seen[1:])]
        self.assertTrue(all(gap >= 0.19 for gap in gaps), gaps)

    def test_time_out(self):
        platform = Platform(indexed_after=3600)
        try:
            started = time.monotonic()
            with self.assertRaises(TimeoutError):
                platform.client.documents.wait("doc_x", timeout=1.5)
            took = time.monotonic() - started
        finally:
            platform.close()
        # never past the time-out by more than a request's own round trip
        self.assertTrue(1.4 < took < 1.5 + 0.5, took)
        for at, wait in platform.seen:
            self.assertTrue(wait is None or at - started + int(wait) <= 1.5 + 0.1, platform.seen)

    def test_a_wait_answered_503_is_not_asked_again_past_the_time_out(self):
        # the transport's own retries (Retry-After 1, twice) would ask for the same 2 s wait again: ~8 s in all
        platform = Platform(indexed_after=3600, failing=True)
        try:
            started = time.monotonic()
            with self.assertRaises(APIError) as raised:
                platform.client.documents.wait("doc_x", timeout=2.5)
            took = time.monotonic() - started
        finally:
            platform.close()
        self.assertEqual(503, raised.exception.status)
        self.assertLess(took, 2.5 + 0.5, platform.seen)


if __name__ == "__main__":
    unittest.main()
