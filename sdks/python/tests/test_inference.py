import unittest

import support
from osfria import NotFoundError, OsfriaObject, Stream


@support.needs_platform
class InferenceTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.client = support.admin()

    def test_chat_completion_has_openais_shape_with_attribute_and_key_access(self):
        response = self.client.chat.completions.create(
            model=support.MODEL, messages=[{"role": "user", "content": "Bonjour"}], max_tokens=5)
        self.assertEqual("chat.completion", response.object)
        self.assertEqual(support.MODEL, response["model"])
        message = response.choices[0].message
        self.assertEqual("assistant", message.role)
        self.assertTrue(message.content)
        self.assertEqual(message.content, response["choices"][0]["message"]["content"])
        self.assertEqual(response.usage.prompt_tokens + response.usage.completion_tokens, response.usage.total_tokens)
        self.assertIsInstance(response, OsfriaObject)
        self.assertIsInstance(response.to_dict()["choices"][0], dict)

    def test_streamed_chat_yields_chunks_until_done(self):
        stream = self.client.chat.completions.create(
            model=support.MODEL, messages=[{"role": "user", "content": "Bonjour"}], max_tokens=6, stream=True)
        self.assertIsInstance(stream, Stream)
        chunks = list(stream)
        self.assertGreaterEqual(len(chunks), 2)
        self.assertTrue(all(c.object == "chat.completion.chunk" for c in chunks))
        text = "".join(c.choices[0].delta.get("content") or "" for c in chunks if c.choices)
        self.assertTrue(text.strip(), chunks)
        self.assertTrue(stream.closed)

    def test_leaving_a_stream_early_closes_its_connection(self):
        stream = self.client.chat.completions.create(
            model=support.MODEL, messages=[{"role": "user", "content": "long"}], max_tokens=200, stream=True)
        sock = stream.response.fp.raw._sock  # the connection's socket, to see it closed
        for chunk in stream:
            self.assertEqual("chat.completion.chunk", chunk.object)
            break
        self.assertTrue(stream.closed)
        self.assertEqual(-1, sock.fileno(), "the socket is still open after the loop stopped")

    def test_text_completion_and_its_stream(self):
        whole = self.client.completions.create(model=support.MODEL, prompt="Il était une fois", max_tokens=4)
        self.assertEqual("text_completion", whole.object)
        self.assertTrue(whole.choices[0].text)
        with self.client.completions.create(model=support.MODEL, prompt="Il était", max_tokens=4, stream=True) as s:
            texts = [c.choices[0].text for c in s if c.choices]
        self.assertTrue("".join(texts).strip())

    def test_models_list_and_retrieve(self):
        ids = [m.id for m in self.client.models.list().data]
        self.assertIn(support.MODEL, ids)
        model = self.client.models.retrieve(support.MODEL)
        self.assertEqual(("model", support.MODEL), (model.object, model.id))
        with self.assertRaises(NotFoundError) as caught:
            self.client.models.retrieve("no-such-model")
        self.assertEqual("model_not_found", caught.exception.code)
