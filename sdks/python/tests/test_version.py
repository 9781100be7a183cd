import os
import subprocess
import sys
import tempfile
import unittest

import support

import osfria


class VersionTest(unittest.TestCase):

    def test_the_sdk_follows_the_platform_version(self):
        self.assertEqual(support.python_version_of(support.pom_version()), osfria.__version__)

    def test_pip_installs_it_without_a_package_index(self):
        """``pip install`` builds it with the in-tree backend (no setuptools, no index) and the install imports."""
        with tempfile.TemporaryDirectory() as target:
            done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                                   "--target", target, support.SDK], capture_output=True, text=True, timeout=120)
            self.assertEqual(0, done.returncode, done.stdout + done.stderr)
            check = subprocess.run([sys.executable, "-c", "import osfria, sys; print(osfria.__version__, osfria.__file__)"],
                                   capture_output=True, text=True, env={**os.environ, "PYTHONPATH": target},
                                   cwd=target, timeout=30)
            self.assertEqual(0, check.returncode, check.stderr)
            version, location = check.stdout.split()
            self.assertEqual(osfria.__version__, version)
            self.assertTrue(location.startswith(target), location)
            dist_infos = [d for d in os.listdir(target) if d.endswith(".dist-info")]
            self.assertEqual([f"osfria_python-{osfria.__version__}.dist-info"], dist_infos)
