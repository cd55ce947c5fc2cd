"""Shared helpers for kassaavstämning's core tests: the demo month's files and its import."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from flows.kassaavstamning.demo import DEMO_IMPORT_TOKEN
from flows.kassaavstamning.demo_data import BANK_FILE, DEFAULT_FOLDER, LEDGER_FILE, TILL_FILE

FILES = {"bank": BANK_FILE, "ledger": LEDGER_FILE, "till": TILL_FILE}
IMPORT_URL = "/api/v1/imports/"
# The planted difference days of the demo month (data/kassaavstamning/README.md).
PLANTED_REFS = {
    "kassa-bibliotek-2026-11-21",
    "kassa-bibliotek-2026-11-24",
    "kassa-reception-2026-11-10",
    "kassa-simhall-2026-11-12",
    "kassa-simhall-2026-11-17",
    "kassa-ingen-kassapunkt-2026-11-16",
}


def demo_bytes(folder: Path = DEFAULT_FOLDER) -> dict[str, bytes]:
    return {name: (folder / filename).read_bytes() for name, filename in FILES.items()}


def demo_files() -> dict[str, tuple[str, bytes]]:
    return {name: (FILES[name], data) for name, data in demo_bytes().items()}


def post_import(client, data: dict[str, bytes] | None = None, *, token=DEMO_IMPORT_TOKEN):
    data = demo_bytes() if data is None else data
    body = {name: SimpleUploadedFile(FILES[name], content) for name, content in data.items()}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(IMPORT_URL, data=body, headers=headers)
