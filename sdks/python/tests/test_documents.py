import io
import os
import tempfile
import unittest

import support
from osfria import NotFoundError


@support.needs_platform
class DocumentsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.client = support.admin()
        cls.collection = support.collection("docs")

    def test_upload_wait_search_update_delete(self):
        words = f"Note de frais {support.RUN}: la procédure de remboursement passe par le formulaire bleu."
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "frais.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(words)
            uploaded = self.client.documents.upload(file=path, collection=self.collection,
                                                    metadata={"author": "compta"}, department="finance")
        self.assertEqual(("frais.txt", "processing", self.collection),
                         (uploaded.filename, uploaded.status, uploaded.collection))
        self.assertTrue(uploaded.document_id.startswith("doc_"))

        seen = []
        document = self.client.documents.wait(uploaded.document_id, timeout=120, on_progress=seen.append,
                                              poll_interval=0.5)
        self.assertEqual("indexed", document.status, document)
        self.assertGreater(document.chunks_count, 0)
        self.assertTrue(seen and seen[-1].status == "indexed")
        self.assertEqual(("compta", "finance", False), (document.metadata.author, document.metadata.department,
                                                         document.metadata.confidential))

        found = self.client.search(f"remboursement formulaire bleu {support.RUN}", collection=self.collection,
                                   filters={"department": "finance"}, top_k=3, mode="hybrid")
        self.assertIn(uploaded.document_id, [r.document_id for r in found.results], found)
        self.assertGreaterEqual(found.total_results, 1)
        none = self.client.search("remboursement", collection=self.collection, filters={"department": "rh"})
        self.assertEqual([], none.results)

        updated = self.client.documents.update(uploaded.document_id, io.BytesIO(b"Version deux: formulaire vert."),
                                               filename="frais-v2.txt")
        self.assertEqual((2, "frais-v2.txt"), (updated.version, updated.filename))
        self.assertEqual("indexed", self.client.documents.wait(uploaded.document_id, timeout=120).status)

        self.client.documents.delete(uploaded.document_id)
        with self.assertRaises(NotFoundError):
            self.client.documents.get(uploaded.document_id)

    def test_list_walks_every_page(self):
        collection = support.collection("pages")
        ids = {self.client.documents.upload(file=f"Page {i} {support.RUN}".encode(), filename=f"p{i}.txt",
                                            collection=collection).document_id for i in range(5)}
        listed = [d.document_id for d in self.client.documents.list(collection, page_size=2)]
        self.assertEqual(5, len(listed), listed)
        self.assertEqual(ids, set(listed))

    def test_the_same_bytes_again_answer_the_same_document(self):
        collection = support.collection("dup")
        content = f"Doublon {support.RUN}".encode()
        first = self.client.documents.upload(content, collection, filename="a.txt")
        again = self.client.documents.upload(io.BytesIO(content), collection, filename="b.txt")
        self.assertEqual(first.document_id, again.document_id)
