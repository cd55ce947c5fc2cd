"""SHA-256, the one way the project hashes content: raw bytes or text, or canonical JSON.

Canonical JSON is sorted keys, no spaces, UTF-8 (not ASCII-escaped), so that an auditor
can recompute any hash on the trail with plain hashlib.
"""

import hashlib
import json


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical_json(data) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def canonical_sha256(data) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()
