import os
import subprocess
import sys
import tempfile
import unittest

import support


@support.needs_platform
class DocumentationExampleTest(unittest.TestCase):

    def test_the_documentations_python_example_runs_as_written(self):
        """examples/quickstart.py: chat with deepseek-r2-78b-int4, then upload rapport.pdf into knowledge-base."""
        marker = f"Rapport annuel {support.RUN}"
        with tempfile.TemporaryDirectory() as cwd:
            with open(os.path.join(cwd, "rapport.pdf"), "wb") as f:
                f.write(support.pdf(marker))
            env = {**os.environ, "OSFRIA_BASE_URL": support.BASE_URL, "OSFRIA_API_KEY": support.ADMIN_KEY,
                   "PYTHONPATH": support.SDK}
            run = subprocess.run([sys.executable, os.path.join(support.SDK, "examples", "quickstart.py")], cwd=cwd,
                                 env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, run.returncode, run.stdout + run.stderr)
        client = support.admin()
        uploaded = [d for d in client.documents.list("knowledge-base") if d.filename == "rapport.pdf"]  # newest first
        self.assertTrue(uploaded, "the example's upload is not in knowledge-base")
        document = client.documents.wait(uploaded[0].document_id, timeout=120)
        self.assertEqual("indexed", document.status, document)
        found = client.search(marker, collection="knowledge-base", mode="keyword")
        self.assertIn(document.document_id, [r.document_id for r in found.results])
