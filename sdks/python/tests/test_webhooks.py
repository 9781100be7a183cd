import base64
import hashlib
import hmac
import json
import time
import unittest

import support
from osfria import NotFoundError, WebhookVerificationError, webhooks


@support.needs_platform
class WebhooksTest(unittest.TestCase):
    """Subscriptions through the SDK, and deliveries the platform really sent, verified by the SDK.

    The receiver listens on 127.0.0.1: the platform must allow loopback targets (``OSFRIA_WEBHOOK_ALLOWED_HOSTS``
    lists ``127.0.0.1``, as the test platform of platform-local does)."""

    @classmethod
    def setUpClass(cls):
        cls.client = support.admin()
        cls.receiver = support.Receiver()
        cls.subscription = cls.client.webhooks.create(cls.receiver.url, ["document.indexed"])
        cls.secret = cls.subscription.secret

    @classmethod
    def tearDownClass(cls):
        try:
            cls.client.webhooks.delete(cls.subscription.id)
        finally:
            cls.receiver.close()

    def test_a_ping_delivery_verifies_and_a_tampered_one_does_not(self):
        self.assertTrue(self.secret.startswith("whsec_"))
        delivery_id = self.client.webhooks.ping(self.subscription.id).delivery_id
        request = self.receiver.next(lambda r: r["headers"].get("webhook-id") == delivery_id)

        payload = webhooks.verify(request["body"], request["headers"], self.secret)
        self.assertEqual("webhook.ping", payload.event)
        self.assertEqual(self.subscription.id, payload.data.subscription_id)

        tampered = request["body"].replace(self.subscription.id.encode(), b"wh_000000000000000000000000")
        with self.assertRaises(WebhookVerificationError):
            webhooks.verify(tampered, request["headers"], self.secret)
        with self.assertRaises(WebhookVerificationError):
            webhooks.verify(request["body"], request["headers"], "whsec_" + base64.b64encode(b"k" * 24).decode())
        for dropped in ("webhook-signature", "X-Osfria-Signature", "webhook-timestamp"):
            headers = {k: v for k, v in request["headers"].items() if k.lower() != dropped.lower()}
            with self.assertRaises(WebhookVerificationError, msg=dropped):
                webhooks.verify(request["body"], headers, self.secret)
        # the headers' signatures intact, the body's own field changed: still refused
        body = json.loads(request["body"])
        forged = request["body"].replace(body["signature"].encode(), b"sha256=" + b"0" * 64)
        with self.assertRaises(WebhookVerificationError):
            webhooks.verify(forged, request["headers"], self.secret)

    def test_a_stale_delivery_is_refused_though_every_signature_is_right(self):
        delivery_id = self.client.webhooks.ping(self.subscription.id).delivery_id
        request = self.receiver.next(lambda r: r["headers"].get("webhook-id") == delivery_id)
        key = base64.b64decode(self.secret[len("whsec_"):])
        for age, accepted in ((0, True), (-600, False), (600, False)):
            timestamp = str(int(time.time()) + age)
            signed = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + request["body"], hashlib.sha256).digest()
            headers = {**request["headers"], "webhook-timestamp": timestamp,
                       "webhook-signature": "v1," + base64.b64encode(signed).decode()}
            if accepted:
                webhooks.verify(request["body"], headers, self.secret)  # the re-signed delivery itself is right
            else:
                with self.assertRaises(WebhookVerificationError, msg=f"{age} s"):
                    webhooks.verify(request["body"], headers, self.secret)
        with self.assertRaises(WebhookVerificationError):
            webhooks.verify(request["body"], request["headers"], self.secret, now=time.time() + 3600)

        # both headers re-signed over a body whose own signature field is wrong: the field alone refuses it
        body = json.loads(request["body"])
        forged = request["body"].replace(body["signature"].encode(), b"sha256=" + b"0" * 64)
        timestamp = str(int(time.time()))
        headers = {**request["headers"], "webhook-timestamp": timestamp,
                   "webhook-signature": "v1," + base64.b64encode(hmac.new(
                       key, f"{delivery_id}.{timestamp}.".encode() + forged, hashlib.sha256).digest()).decode(),
                   "x-osfria-signature": "sha256=" + hmac.new(key, forged, hashlib.sha256).hexdigest()}
        with self.assertRaisesRegex(WebhookVerificationError, "body's signature"):
            webhooks.verify(forged, headers, self.secret)

    def test_document_indexed_delivery_verifies_and_replays_with_the_same_id(self):
        collection = support.collection("hooks")
        uploaded = self.client.documents.upload(f"Annonce {support.RUN}".encode(), collection, filename="a.txt")
        request = self.receiver.next(lambda r: support.event_of(r) == "document.indexed"
                                     and json.loads(r["body"])["data"]["document_id"] == uploaded.document_id, 120)
        payload = webhooks.verify(request["body"], request["headers"], self.secret)
        self.assertEqual((collection, "a.txt"), (payload.data.collection, payload.data.filename))

        delivery = self._recorded(request["headers"]["webhook-id"])
        self.assertEqual("document.indexed", delivery.event)
        self.assertTrue(delivery.history and delivery.history[0].status_code == 204, delivery)
        self.assertEqual(1, self.client.webhooks.replay(self.subscription.id, delivery.id).replayed)
        again = self.receiver.next(lambda r: r["headers"].get("webhook-id") == delivery.id)
        self.assertEqual(payload.data.document_id, webhooks.verify(again["body"], again["headers"], self.secret).data.document_id)

    def _recorded(self, delivery_id, seconds=15):
        """The delivery as the API lists it, once its attempt is recorded (written just after the receiver answered)."""
        deadline = time.monotonic() + seconds
        while True:
            found = [d for d in self.client.webhooks.deliveries(self.subscription.id) if d.id == delivery_id]
            if found and found[0].history or time.monotonic() > deadline:
                return found[0] if found else None
            time.sleep(0.2)

    def test_subscription_lifecycle(self):
        created = self.client.webhooks.create(self.receiver.url, ["document.failed"], secret="s3cret-of-16-chars",
                                              active=False)
        self.assertEqual((["document.failed"], False), (created.events, created.active))
        self.assertIn(created.id, [s.id for s in self.client.webhooks.list()])
        self.assertNotIn("secret", self.client.webhooks.get(created.id))
        updated = self.client.webhooks.update(created.id, events=["document.failed", "document.deleted"], active=True)
        self.assertEqual((["document.failed", "document.deleted"], True), (updated.events, updated.active))
        self.assertEqual(0, self.client.webhooks.replay(created.id, since="2026-01-01T00:00:00Z").replayed)
        self.client.webhooks.delete(created.id)
        with self.assertRaises(NotFoundError):
            self.client.webhooks.get(created.id)

    def test_a_plain_secret_signs_with_its_utf8_bytes(self):
        receiver = support.Receiver()
        secret = "un-secret-en-clair-1234"
        try:
            sub = self.client.webhooks.create(receiver.url, ["document.deleted"], secret=secret)
            delivery_id = self.client.webhooks.ping(sub.id).delivery_id
            request = receiver.next(lambda r: r["headers"].get("webhook-id") == delivery_id)
            self.assertEqual("webhook.ping", webhooks.verify(request["body"], request["headers"], secret).event)
            self.client.webhooks.delete(sub.id)
        finally:
            receiver.close()


class OfflineSignatureTest(unittest.TestCase):
    """Deliveries signed here exactly as the platform signs them (Signatures.java): each check must refuse alone."""

    SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
    KEY = b"k" * 32

    def delivery(self, field_signature=None, osfria_signature=None):
        unsigned = b'{"event":"webhook.ping","timestamp":"2026-01-01T00:00:00Z","data":{}}'
        field = field_signature or "sha256=" + hmac.new(self.KEY, unsigned, hashlib.sha256).hexdigest()
        body = unsigned[:-1] + f',"signature":"{field}"}}'.encode()
        timestamp = str(int(time.time()))
        headers = {"webhook-id": "dlv_1", "webhook-timestamp": timestamp,
                   "webhook-signature": "v1," + base64.b64encode(hmac.new(
                       self.KEY, f"dlv_1.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode(),
                   "X-Osfria-Signature": osfria_signature or "sha256=" + hmac.new(self.KEY, body, hashlib.sha256).hexdigest()}
        return body, headers

    def test_a_correct_delivery_verifies(self):
        body, headers = self.delivery()
        self.assertEqual("webhook.ping", webhooks.verify(body, headers, self.SECRET).event)

    def test_a_valid_webhook_signature_with_a_wrong_x_osfria_signature_is_refused(self):
        body, headers = self.delivery(osfria_signature="sha256=" + "0" * 64)
        with self.assertRaises(WebhookVerificationError):
            webhooks.verify(body, headers, self.SECRET)

    def test_a_wrong_body_signature_field_alone_is_refused(self):
        body, headers = self.delivery(field_signature="sha256=" + "0" * 64)  # both headers signed over this body
        with self.assertRaisesRegex(WebhookVerificationError, "body's signature"):
            webhooks.verify(body, headers, self.SECRET)
