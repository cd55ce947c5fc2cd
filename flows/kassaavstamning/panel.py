"""The case page's panel for a kassaavstämning case: the day's differences at a glance."""

from .steps import attest_amount_kr


def case_panel_context(*, case, material) -> dict:
    payload = case.payload
    if payload.get("kind") != "difference":
        row = getattr(case, "kassa_import", None)
        return {"kind": "import", "manifest": payload, "import_row": row}
    return {
        "kind": "difference",
        "day": payload,
        "amount_kr": attest_amount_kr(payload["differences"]),
    }
