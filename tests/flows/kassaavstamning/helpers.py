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


def small_import(*, missing_deposit_kr: int = 2000) -> dict[str, bytes]:
    """Two library days: 2 Nov reconciles, 3 Nov's cash (``missing_deposit_kr``) never
    reaches the bank. One matched day and one difference case: a bounded end-to-end run."""
    from datetime import date

    from flows.kassaavstamning.writers import (
        EntrySpec,
        StatementSpec,
        TransSpec,
        VoucherSpec,
        camt053_xml,
        sie4_bytes,
        z_report_csv,
    )

    mon, tue = date(2026, 11, 2), date(2026, 11, 3)
    cash = {mon: 100_000, tue: missing_deposit_kr * 100}
    rows = [
        {
            "date": day.isoformat(),
            "cash_point": "bibliotek",
            "till_id": "BIBL-1",
            "z_number": 500 + i,
            "cash": amount,
            "card": 0,
            "swish": 0,
            "refunds": 0,
        }
        for i, (day, amount) in enumerate(cash.items())
    ]
    statement = StatementSpec(
        "STMT-E2E",
        date(2026, 11, 1),
        date(2026, 11, 10),
        opening=0,
        entries=[
            EntrySpec(100_000, True, date(2026, 11, 3), "DEP BIBL 2026-11-02", "E2E-1"),
        ],
    )
    vouchers = [
        VoucherSpec(
            "K",
            i + 1,
            day,
            f"Z-rapport BIBL-1 nr {500 + i}",
            [
                TransSpec("1910", amount, (("1", "4110"),)),
                TransSpec("3590", -amount, (("1", "4110"),)),
            ],
        )
        for i, (day, amount) in enumerate(cash.items())
    ]
    return {
        "bank": camt053_xml([statement]),
        "ledger": sie4_bytes(
            company="Exempelkommunen",
            accounts={"1910": "Kassa", "3590": "Övriga avgifter"},
            vouchers=vouchers,
            dimensions={"1": "Kostnadsställe"},
        ),
        "till": z_report_csv(rows),
    }
