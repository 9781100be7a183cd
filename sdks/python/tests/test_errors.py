import http.server
import threading
import time
import unittest

import support
from osfria import (APIConnectionError, APITimeoutError, AuthenticationError, BadRequestError,
                    InsufficientStorageError, InternalServerError, NotFoundError, OsfriaClient, PermissionDeniedError,
                    RateLimitError)


@support.needs_platform
class PlatformErrorsTest(unittest.TestCase):
    """Each error class, from an answer the platform really gave."""

    def test_401_a_wrong_key(self):
        client = OsfriaClient(api_key="sk-osfria-not-a-key", base_url=support.BASE_URL)
        with self.assertRaises(AuthenticationError) as caught:
            client.models.list()
        self.assertEqual((401, "authentication_error"), (caught.exception.status, caught.exception.type))
        self.assertTrue(caught.exception.message)

    def test_403_someone_elses_collection(self):
        own = support.collection("own")
        user = OsfriaClient(api_key=support.key("user", "--read", own, "--write", own), base_url=support.BASE_URL)
        self.assertEqual("processing", user.documents.upload(b"le mien", own, filename="mine.txt").status)
        with self.assertRaises(PermissionDeniedError) as caught:
            user.documents.upload(b"pas le mien", support.collection("other"), filename="theirs.txt")
        self.assertEqual((403, "forbidden"), (caught.exception.status, caught.exception.code))

    def test_404_an_unknown_id(self):
        client = support.admin()
        for call in (lambda: client.documents.get("doc_000000000000000000000000"),
                     lambda: client.webhooks.get("wh_000000000000000000000000")):
            with self.assertRaises(NotFoundError) as caught:
                call()
            self.assertEqual((404, "not_found"), (caught.exception.status, caught.exception.code))

    def test_400_bad_input(self):
        client = support.admin()
        with self.assertRaises(BadRequestError) as caught:
            client.search("frais", collection="knowledge-base", top_k=1000)
        self.assertEqual(400, caught.exception.status)
        with self.assertRaises(BadRequestError):
            client.documents.upload(b"x", "not a collection!", filename="x.txt")
        with self.assertRaises(BadRequestError):
            client.chat.completions.create(model=support.MODEL, messages=[], max_tokens=-1)

    def test_429_a_spent_daily_quota_is_raised_at_once_with_retry_after(self):
        client = OsfriaClient(api_key=support.key("quota", "--daily-tokens", "1"), base_url=support.BASE_URL,
                              max_retry_wait=5)
        started = time.monotonic()
        with self.assertRaises(RateLimitError) as caught:
            client.chat.completions.create(model=support.MODEL, messages=[{"role": "user", "content": "Bonjour " * 20}])
        error = caught.exception
        self.assertEqual((429, "quota_exceeded"), (error.status, error.code))
        # the quota comes back at the end of the day: longer than the client waits, so raised without sleeping
        self.assertGreater(error.retry_after, 5)
        self.assertLess(time.monotonic() - started, 15)


class TransportErrorsTest(unittest.TestCase):
    """What no platform answer can show: nothing listening, nothing answering, retries on 503."""

    def test_connection_error_to_a_closed_port(self):
        client = OsfriaClient(api_key="sk-osfria-x", base_url=f"http://127.0.0.1:{support.closed_port()}",
                              max_retries=1)
        started = time.monotonic()
        with self.assertRaises(APIConnectionError) as caught:
            client.models.list()
        self.assertNotIsInstance(caught.exception, APITimeoutError)
        self.assertIsNone(caught.exception.status)
        self.assertGreater(time.monotonic() - started, 0.3, "the connection error was not retried after a back-off")

    def test_time_out(self):
        silent = support.Silent()
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=silent.url, timeout=0.5)
            started = time.monotonic()
            with self.assertRaises(APITimeoutError):
                client.chat.completions.create(model="m", messages=[])
            self.assertLess(time.monotonic() - started, 5)
        finally:
            silent.close()

    def test_507_a_full_storage_quota_is_raised_at_once_and_not_sent_again(self):
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                seen.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = (b'{"error":{"message":"this key\'s storage quota is full","type":"insufficient_quota",'
                        b'"code":"storage_quota_exceeded"}}')
                self.send_response(507)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=f"http://127.0.0.1:{server.server_address[1]}")
            with self.assertRaises(InsufficientStorageError) as raised:
                client.documents.upload(b"Un document de trop", "knowledge-base", filename="trop.txt")
            self.assertEqual(507, raised.exception.status)
            self.assertEqual("storage_quota_exceeded", raised.exception.code)
            self.assertIsInstance(raised.exception, InternalServerError)
        finally:
            server.shutdown()
        self.assertEqual(["/api/v1/documents"], seen)

    def test_503_is_retried_after_retry_after_and_the_user_agent_names_the_version(self):
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((time.monotonic(), self.headers.get("User-Agent"), self.path))
                if len(seen) == 1:
                    body = b'{"error":{"message":"database restarting","type":"service_unavailable","code":"database_unavailable"}}'
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                else:
                    body = b'{"object":"list","data":[]}'
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=f"http://127.0.0.1:{server.server_address[1]}")
            self.assertEqual([], client.models.list().data)
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(2, len(seen))
        self.assertGreaterEqual(seen[1][0] - seen[0][0], 0.95, "Retry-After: 1 was not honoured")
        import osfria
        self.assertEqual(f"osfria-python/{osfria.__version__}", seen[0][1])
        self.assertEqual("/api/v1/models", seen[0][2])
