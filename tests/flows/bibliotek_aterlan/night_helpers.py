"""What the shipped synthetic library gives tonight (data/bibliotek_aterlan/library.json)."""

import datetime as dt

from django.utils import timezone

RENEWED_ITEMS = {
    "3900000000011",
    "3900000000042",
    "3900000000059",
    "3900000000097",
    "3900000000103",
}
EXCEPTION_REASONS = {
    "3900000000028": "reserved",
    "3900000000035": "limit_reached",
    "3900000000066": "not_renewable",
    "3900000000073": "patron_blocked",
}
PATRONS_WITH_LOANS_DUE = 6


def night() -> dt.date:
    return timezone.localdate()
