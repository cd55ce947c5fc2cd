"""Pydantic models of the shipped synthetic library (the simulator's data) and of one row of
the loans export."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TerminalAccount(_Strict):
    user: str
    password: str
    location: str = ""


class ItemType(_Strict):
    label: str
    renewable: bool
    loan_days: int = Field(gt=0)
    # SIP2 media type (CK): 001 book, 006 CD/CD-ROM, 005 video tape (DVDs are commonly 005/000).
    media_type: str = Field(pattern=r"^\d{3}$")


class Patron(_Strict):
    id: str = Field(pattern=r"^\d{6,14}$")  # the library card number (AA)
    name: str
    email: str
    pin: str
    blocked: bool = False
    block_reason: str | None = None


class Item(_Strict):
    id: str = Field(pattern=r"^\d{6,14}$")  # the item barcode (AB)
    title: str
    type: str


class Loan(_Strict):
    """A loan; dates are relative to the day the simulator starts, so the demo always has
    loans due tonight (a library system's own data would have absolute dates)."""

    patron: str
    item: str
    checked_out_days_ago: int = Field(ge=0)
    due_in_days: int
    renewals: int = Field(ge=0)


class Hold(_Strict):
    item: str
    patron: str
    placed_days_ago: int = Field(ge=0)


class LibraryData(_Strict):
    version: int = 1
    institution: str
    library_name: str
    renewal_limit: int = Field(ge=0)
    terminal_accounts: list[TerminalAccount]
    item_types: dict[str, ItemType]
    patrons: list[Patron]
    items: list[Item]
    loans: list[Loan]
    holds: list[Hold] = []

    @model_validator(mode="after")
    def _references(self):
        patrons = {p.id for p in self.patrons}
        items = {i.id: i for i in self.items}
        for item in self.items:
            if item.type not in self.item_types:
                raise ValueError(f"item {item.id}: unknown item type {item.type!r}")
        seen = set()
        for loan in self.loans:
            if loan.patron not in patrons:
                raise ValueError(f"loan of {loan.item}: unknown patron {loan.patron}")
            if loan.item not in items:
                raise ValueError(f"loan: unknown item {loan.item}")
            if loan.item in seen:
                raise ValueError(f"item {loan.item} is lent twice")
            seen.add(loan.item)
        for hold in self.holds:
            if hold.patron not in patrons or hold.item not in items:
                raise ValueError(f"hold on {hold.item}: unknown patron or item")
        return self


class ExportedLoan(_Strict):
    """One row of the loans export (format version 1, see data/bibliotek_aterlan/README.md)."""

    patron_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    title: str
    item_type: str
    renewable: bool
    checked_out: dt.date
    due_date: dt.date
    renewals: int = Field(ge=0)
    renewal_limit: int = Field(ge=0)
    holds_by_others: int = Field(ge=0)
    patron_blocked: bool
    patron_name: str = ""
    patron_email: str = ""
