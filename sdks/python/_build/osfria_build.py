"""A PEP 517 build backend in the standard library only, so that ``pip install ./sdks/python`` works offline: it
needs no setuptools nor wheel from a package index (the machines Osfria runs on often reach none). It builds a pure
Python wheel of the ``osfria`` package and an sdist."""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

NAME = "osfria-python"
WHEEL_NAME = "osfria_python"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version():
    with open(os.path.join(HERE, "osfria", "_version.py"), encoding="utf-8") as f:
        return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


def _metadata():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {_version()}\n"
            "Summary: Python SDK of Osfria, the on-premises AI platform (standard library only)\n"
            "Requires-Python: >=3.9\nDescription-Content-Type: text/markdown\n\n" + readme)


def _sources():
    for name in sorted(os.listdir(os.path.join(HERE, "osfria"))):
        if name.endswith(".py"):
            yield "osfria/" + name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    dist_info = f"{WHEEL_NAME}-{version}.dist-info"
    files = {path: open(os.path.join(HERE, path), "rb").read() for path in _sources()}
    files[f"{dist_info}/METADATA"] = _metadata().encode("utf-8")
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: osfria_build\nRoot-Is-Purelib: true\n"
                                   b"Tag: py3-none-any\n")
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    wheel = f"{WHEEL_NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return wheel


def build_sdist(sdist_directory, config_settings=None):
    version = _version()
    root = f"{WHEEL_NAME}-{version}"
    name = f"{root}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for path in ["pyproject.toml", "README.md", "_build/osfria_build.py", *_sources()]:
            tar.add(os.path.join(HERE, path), arcname=f"{root}/{path}")
        info = _metadata().encode("utf-8")
        entry = tarfile.TarInfo(f"{root}/PKG-INFO")
        entry.size = len(info)
        tar.addfile(entry, io.BytesIO(info))
    return name
