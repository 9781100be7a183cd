"""Retries that never repeat work, ids that cannot leave their path, redirects, stream time-outs: loopback
stand-in servers only, no platform needed."""

import http.server
import io
import socket
import struct
import threading
import time
import unittest

import support  # noqa: F401  (puts the SDK on the path like the other tests)
from osfria import APIConnectionError, APIError, APITimeoutError, OsfriaClient


class _Server:
    def __init__(self, handler):
        self.seen = []
        self.bodies = []
        seen, bodies = self.seen, self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(self.rfile.read(length) if length else b"")
                seen.append((self.command, self.path, self.headers.get("Authorization")))
                handler(self, len(seen))

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def reset(handler, n):
    """Drops the connection with a TCP RST after reading the request: the platform may have started the work."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def ok_after_reset(handler, n):
    if n == 1:
        return reset(handler, n)
    body = b'{"object":"list","data":[]}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def answer(status, body=b"", headers=()):
    def handle(handler, n):
        handler.send_response(status)
        for k, v in headers:
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return handle


class RetrySafetyTest(unittest.TestCase):
    def test_a_post_reset_after_sending_is_not_repeated(self):
        server = _Server(reset)
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url)
            with self.assertRaises(APIConnectionError) as caught:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            self.assertNotIsInstance(caught.exception, APITimeoutError)
        finally:
            server.close()
        self.assertEqual(1, len(server.seen), "the POST was sent again after the connection broke")

    def test_a_post_meeting_502_is_not_repeated(self):
        server = _Server(answer(502, b"bad gateway"))
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url)
            with self.assertRaises(APIError) as caught:
                client.chat.completions.create(model="m", messages=[])
            self.assertEqual(502, caught.exception.status)
        finally:
            server.close()
        self.assertEqual(1, len(server.seen))

    def test_a_get_reset_after_sending_is_retried(self):
        server = _Server(ok_after_reset)
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url)
            self.assertEqual([], client.models.list().data)
        finally:
            server.close()
        self.assertEqual(2, len(server.seen))

    def test_a_post_to_a_closed_port_is_retried(self):
        client = OsfriaClient(api_key="sk-osfria-x", base_url=f"http://127.0.0.1:{support.closed_port()}",
                              max_retries=1)
        started = time.monotonic()
        with self.assertRaises(APIConnectionError):
            client.chat.completions.create(model="m", messages=[])
        self.assertGreater(time.monotonic() - started, 0.3, "a refused connection (nothing sent) was not retried")


    def test_an_upload_refused_for_too_many_in_progress_is_sent_again_whole(self):
        refusal = (b'{"error":{"message":"this API key has 16 uploads in progress","type":"rate_limit_error",'
                   b'"code":"too_many_uploads"}}')
        accepted = b'{"document_id":"doc_5f0c2a9d4e1b7c3a8f6e2d10","status":"processing"}'

        def busy_then_accepted(handler, n):
            if n == 1:
                return answer(429, refusal, [("Content-Type", "application/json"), ("Retry-After", "1")])(handler, n)
            return answer(202, accepted, [("Content-Type", "application/json")])(handler, n)

        server = _Server(busy_then_accepted)
        file = io.BytesIO(b"Le rapport annuel. " * 5000)  # a stream: read once, sent whole at each attempt
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url)
            started = time.monotonic()
            document = client.documents.upload(file, "knowledge-base", filename="rapport.txt")
            self.assertEqual("processing", document.status)
            self.assertGreaterEqual(time.monotonic() - started, 0.9, "Retry-After was not waited")
        finally:
            server.close()
        self.assertEqual(2, len(server.seen))
        first, second = server.bodies
        self.assertIn(b"Le rapport annuel. " * 5000, second, "the retried upload did not carry the whole file")
        self.assertEqual(len(first), len(second))


class RedirectTest(unittest.TestCase):
    def test_308_raises_and_is_not_followed(self):
        target = _Server(answer(200, b'{"object":"list","data":[]}', [("Content-Type", "application/json")]))
        server = _Server(answer(308, b"", [("Location", target.url + "/api/v1/models")]))
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url)
            with self.assertRaises(APIError) as caught:
                client.models.list()
            self.assertEqual(308, caught.exception.status)
            self.assertIn("redirect", caught.exception.message)
        finally:
            server.close()
            target.close()
        self.assertEqual(1, len(server.seen))
        self.assertEqual([], target.seen, "the redirect was followed")


class PathIdTest(unittest.TestCase):
    def test_ids_that_would_leave_their_path_are_refused_before_any_request(self):
        server = _Server(answer(200, b"{}", [("Content-Type", "application/json")]))
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url, max_retries=0)
            for bad in ["", ".", "..", "%2E%2E", "%2e", "../documents/doc_x", "a/b", "a%2Fb"]:
                with self.assertRaises(TypeError, msg=repr(bad)):
                    client.documents.get(bad)
            for bad in ["../documents/doc_x", "..", "a//b", "org/%2E%2E", "org/"]:
                with self.assertRaises(TypeError, msg=repr(bad)):
                    client.models.retrieve(bad)
            self.assertEqual([], server.seen)
            client.models.retrieve("org/model.v1")
            client.documents.get("doc_1.2")
        finally:
            server.close()
        self.assertEqual(["/api/v1/models/org/model.v1", "/api/v1/documents/doc_1.2"], [p for _, p, _ in server.seen])


class StreamTimeoutTest(unittest.TestCase):
    def test_a_stream_that_stalls_after_the_headers_times_out(self):
        def stall(handler, n):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.end_headers()
            handler.wfile.write(b'data: {"choices":[]}\n\n')
            handler.wfile.flush()
            time.sleep(3)

        server = _Server(stall)
        try:
            client = OsfriaClient(api_key="sk-osfria-x", base_url=server.url, timeout=0.5)
            started = time.monotonic()
            chunks = []
            with self.assertRaises(APITimeoutError):
                for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
                    chunks.append(chunk)
            self.assertEqual(1, len(chunks))
            self.assertLess(time.monotonic() - started, 2.5)
        finally:
            server.close()
