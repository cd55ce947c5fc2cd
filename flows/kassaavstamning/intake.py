"""An import: three files checked with the readers, stored as received, one case opened.

The API (api.py), the drop folder (the daily run) and ``manage.py kassa_import`` all
come here. A file a reader refuses is reported with its field name and the reader's
error code and message; nothing is stored then (the API keeps the rejected body in
approvals.RejectedSubmission, like the core's intake).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from approvals import services

from .camt053 import BankDocument, parse_camt053
from .config import ReconciliationConfig, config_for
from .errors import InputFileError
from .hooks import IMPORT
from .models import FILE_FIELDS, KassaImport, import_sha256, sha256_hex
from .process import PROCESS
from .sie4 import SieFile, parse_sie4
from .till import ZReport, parse_z_reports

# What the files are, for error messages and the README.
FILE_LABELS = {
    "bank": "bank statement (ISO 20022 camt.053)",
    "ledger": "ledger export (SIE 4)",
    "till": "Z-reports (CSV)",
}
# Suffixes the drop folder recognises.
FOLDER_SUFFIXES = {"bank": (".xml",), "ledger": (".se", ".si", ".sie"), "till": (".csv",)}
IMPORT_MISSING_FILE = "IMPORT_MISSING_FILE"
IMPORT_NO_CONFIG = "IMPORT_NO_CONFIG"
IMPORT_FOLDER = "IMPORT_FOLDER"


class ImportRefused(ValueError):
    """One or more files refused; ``errors`` maps the field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Parsed:
    bank: BankDocument
    ledger: SieFile
    till: list[ZReport]
    config: ReconciliationConfig


def files_parse(*, bank: bytes, ledger: bytes, till: bytes) -> Parsed:
    """Read the three files as the reconciliation will; every refused file is reported."""
    errors: dict[str, list[str]] = {}
    reports: list[ZReport] = []
    config = None
    try:
        reports = parse_z_reports(till)
    except InputFileError as exc:
        errors["till"] = [str(exc)]
    if reports:
        try:
            config = config_for(min(r.date for r in reports).replace(day=1))
        except LookupError as exc:
            errors["till"] = [f"Z-report CSV: {exc} [{IMPORT_NO_CONFIG}]"]
    if config is not None:
        try:
            reports = parse_z_reports(till, cash_points=config.codes)
        except InputFileError as exc:
            errors["till"] = [str(exc)]
    statement = books = None
    try:
        statement = parse_camt053(bank, currency=config.currency if config else "SEK")
    except InputFileError as exc:
        errors["bank"] = [str(exc)]
    try:
        books = parse_sie4(ledger)
    except InputFileError as exc:
        errors["ledger"] = [str(exc)]
    if errors:
        raise ImportRefused(errors)
    return Parsed(bank=statement, ledger=books, till=reports, config=config)


def import_store(
    *, files: dict[str, tuple[str, bytes]], source: str, received_by
) -> tuple[KassaImport, bool]:
    """Check and store an import, and open its case (which queues its flow run).

    ``files`` maps bank/ledger/till to (file name, bytes). Idempotent: the same three
    files again return the stored import (created False) and open nothing new.
    """
    missing = [name for name in FILE_FIELDS if name not in files]
    if missing:
        raise ImportRefused(
            {n: [f"the {FILE_LABELS[n]} is missing [{IMPORT_MISSING_FILE}]"] for n in missing}
        )
    data = {name: files[name][1] for name in FILE_FIELDS}
    hashes = {name: sha256_hex(data[name]) for name in FILE_FIELDS}
    digest = import_sha256(
        bank_sha256=hashes["bank"], ledger_sha256=hashes["ledger"], till_sha256=hashes["till"]
    )
    existing = KassaImport.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    parsed = files_parse(**data)
    manifest = {
        "kind": IMPORT,
        "import_sha256": digest,
        "files": {
            name: {"name": files[name][0], "sha256": hashes[name], "bytes": len(data[name])}
            for name in FILE_FIELDS
        },
        "first_day": min(r.date for r in parsed.till).isoformat(),
        "last_day": max(r.date for r in parsed.till).isoformat(),
        "statement_last_day": (
            parsed.bank.last_date.isoformat() if parsed.bank.last_date else None
        ),
        "config_version": parsed.config.version,
    }
    with transaction.atomic():
        row, created = KassaImport.objects.get_or_create(
            sha256=digest,
            defaults={
                "source": source,
                **{name: data[name] for name in FILE_FIELDS},
                **{f"{name}_name": files[name][0][:200] for name in FILE_FIELDS},
                **{f"{name}_sha256": hashes[name] for name in FILE_FIELDS},
                "first_day": min(r.date for r in parsed.till),
                "last_day": max(r.date for r in parsed.till),
                "statement_last_day": parsed.bank.last_date,
                "config_version": parsed.config.version,
                "received_by": received_by,
            },
        )
        if not created:
            return row, False
        case, _ = services.case_open(
            spec=PROCESS,
            external_ref=digest,
            raw_body=json.dumps(manifest, ensure_ascii=False, sort_keys=True),
            payload=manifest,
            opened_by=received_by,
        )
        row.case = case
        row.save(update_fields=["case"])
    return row, True


def folder_files(folder: Path) -> dict[str, tuple[str, bytes]]:
    """The three files of a drop folder: exactly one file per kind, recognised by suffix."""
    if not folder.is_dir():
        raise ImportRefused({"folder": [f"{folder} is not a folder [{IMPORT_FOLDER}]"]})
    found: dict[str, list[Path]] = {name: [] for name in FILE_FIELDS}
    for path in sorted(folder.iterdir()):
        for name, suffixes in FOLDER_SUFFIXES.items():
            if path.is_file() and path.suffix.lower() in suffixes:
                found[name].append(path)
    errors = {
        name: [
            f"expected one {FILE_LABELS[name]} in {folder}, found "
            + (", ".join(p.name for p in paths) or "none")
            + f" [{IMPORT_FOLDER}]"
        ]
        for name, paths in found.items()
        if len(paths) != 1
    }
    if errors:
        raise ImportRefused(errors)
    return {name: (paths[0].name, paths[0].read_bytes()) for name, paths in found.items()}
