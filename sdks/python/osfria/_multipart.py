"""multipart/form-data for uploads, from a path, bytes or a file object."""

import mimetypes
import os
import uuid
from typing import Any, Dict, Optional, Tuple


def read_file(file: Any, filename: Optional[str]) -> Tuple[bytes, str]:
    """The bytes and the name to send: the name tells the platform the type, so give one for bare bytes."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return f.read(), filename or os.path.basename(os.fspath(file))
    if isinstance(file, (bytes, bytearray, memoryview)):
        return bytes(file), filename or "document"
    if hasattr(file, "read"):
        data = file.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = getattr(file, "name", None)
        return data, filename or (os.path.basename(name) if isinstance(name, str) else "document")
    raise TypeError("file is a path, bytes or a file object opened in binary mode")


def encode(fields: Dict[str, Optional[str]], content: bytes, filename: str) -> Tuple[bytes, str]:
    """The body and its Content-Type."""
    boundary = "osfria-" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        if value is not None:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                         .encode("utf-8"))
    safe_name = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode("utf-8"))
    parts.append(content)
    parts.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
