"""What the tests need of the platform they run against: its URL and an admin key from the environment, keys of
their own made with ``osfria keys create``, a loopback webhook receiver, documents to upload.

Environment: ``OSFRIA_BASE_URL`` and ``OSFRIA_API_KEY`` (an admin key) name the platform; ``OSFRIA_HOME`` (the
repository, by default the one holding these tests) and ``OSFRIA_DATA`` (its data directory, as for ``./osfria up``)
tell ``osfria keys`` which key file to write. Without the first two the tests that need a platform are skipped.
"""

import http.server
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, SDK)

from osfria import AuthenticationError, OsfriaClient  # noqa: E402

HOME = os.environ.get("OSFRIA_HOME") or os.path.dirname(os.path.dirname(SDK))
BASE_URL = os.environ.get("OSFRIA_BASE_URL")
ADMIN_KEY = os.environ.get("OSFRIA_API_KEY")
RUN = uuid.uuid4().hex[:8]  # names of this run's keys and collections
MODEL = "deepseek-r2-78b-int4"


def needs_platform(cls):
    return unittest.skipUnless(BASE_URL and ADMIN_KEY, "set OSFRIA_BASE_URL and OSFRIA_API_KEY (an admin key)")(cls)


def admin(**options) -> OsfriaClient:
    return OsfriaClient(api_key=ADMIN_KEY, base_url=BASE_URL, **options)


def collection(name: str) -> str:
    return f"py-{name}-{RUN}"


_keys = {}


def key(name: str, *options: str) -> str:
    """A key of this run, made once with ``osfria keys create NAME OPTIONS…``, returned once every service knows it."""
    if name not in _keys:
        env = dict(os.environ)
        out = subprocess.run([os.path.join(HOME, "osfria"), "keys", "create", f"py-{name}-{RUN}", *options],
                             env=env, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"osfria keys create failed ({out.returncode}): {out.stderr}")
        _keys[name] = out.stdout.strip().splitlines()[-1]
        await_known(_keys[name])
    return _keys[name]


def await_known(api_key: str, seconds: float = 30) -> None:
    """Services re-read the key file every few seconds, each on its own: wait until all four accept the key."""
    client = OsfriaClient(api_key=api_key, base_url=BASE_URL, max_retries=0)
    probes = [lambda: client.models.list(), lambda: list(client.documents.list("any")),
              lambda: client.webhooks.list(), lambda: client.search("x", "any")]
    deadline = time.monotonic() + seconds
    for probe in probes:
        while True:
            try:
                probe()
                break
            except AuthenticationError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
            except Exception:
                break  # known (refused for another reason, e.g. 404 on a collection it may not read)


def text_file(words: str) -> bytes:
    return words.encode("utf-8")


def pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 204 and keeps every request (headers, raw body)."""

    def __init__(self):
        self.requests: "queue.Queue[dict]" = queue.Queue()
        received = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.put({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, predicate=lambda r: True, seconds: float = 60) -> dict:
        """The next request for which ``predicate`` holds (others are dropped)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching delivery within {seconds} s")
            try:
                request = self.requests.get(timeout=left)
            except queue.Empty:
                continue
            if predicate(request):
                return request

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def event_of(request: dict) -> str:
    return json.loads(request["body"]).get("event")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Silent:
    """A loopback server that accepts connections and never answers."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self):
        self.socket.close()


def pom_version() -> str:
    import xml.etree.ElementTree as ET
    root = ET.parse(os.path.join(HOME, "pom.xml")).getroot()
    return root.find("{http://maven.apache.org/POM/4.0.0}version").text


def python_version_of(maven: str) -> str:
    """0.1.0-SNAPSHOT → 0.1.0.dev0 (PEP 440); a release stays as it is."""
    return maven[:-len("-SNAPSHOT")] + ".dev0" if maven.endswith("-SNAPSHOT") else maven
