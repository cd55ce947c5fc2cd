"""A register connector backed by JSON files of synthetic people.

Stands in for the SSBTEK exchange and the population register in development, demos and
tests. The files (see `data/register/README.md`):

- `people.json`: people, the address they are registered at (`address_id`, null for a
  person with a coordination number, who is not folkbokförd), a spouse or cohabiting
  partner, and registered guardians (`guardians`, only for minors).
- `incomes.json`: per person, per source, per income type, amounts by month "YYYY-MM".
- `availability.json`: which (source, person) pairs do not answer, to rehearse gaps.

A whole source can be made unavailable with the constructor argument `unavailable_sources`
or, when that is not given, the environment variable `REGISTER_UNAVAILABLE_SOURCES`
(comma-separated source names, e.g. "csn,akassa" or "folkbokforing").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from flows.connectors.base import (
    POPULATION_REGISTER,
    RELATION_APPLICANT,
    RELATION_CHILD,
    RELATION_OTHER_ADULT,
    RELATION_OTHER_CHILD,
    RELATION_PARTNER,
    RELATION_SPOUSE,
    SOURCE_INCOME_TYPES,
    HouseholdMember,
    IncomeRecord,
    PersonNotFound,
    RegisterUnavailable,
    SourceAnswer,
    UnknownSource,
    month_validate,
)

UNAVAILABLE_SOURCES_ENV = "REGISTER_UNAVAILABLE_SOURCES"


def _normalise(personnummer: str) -> str:
    """Accept "YYYYMMDD-NNNC" as well as "YYYYMMDDNNNC"."""
    return personnummer.replace("-", "").strip()


class FileRegister:
    """Answers register questions from the JSON files in `data_dir`."""

    def __init__(self, *, data_dir: str | Path, unavailable_sources: Iterable[str] | None = None):
        self.data_dir = Path(data_dir)
        if unavailable_sources is None:
            unavailable_sources = os.environ.get(UNAVAILABLE_SOURCES_ENV, "").split(",")
        self.unavailable_sources = frozenset(s.strip() for s in unavailable_sources if s.strip())

    # Files are read once per connector, on first use.

    def _load(self, name: str) -> dict[str, Any]:
        path = self.data_dir / name
        if not path.exists():
            return {}
        with path.open(encoding="utf-8") as f:
            return json.load(f)

    @cached_property
    def _people(self) -> dict[str, dict[str, Any]]:
        return {p["personnummer"]: p for p in self._load("people.json").get("people", [])}

    @cached_property
    def _incomes(self) -> dict[str, dict[str, dict[str, dict[str, int]]]]:
        return self._load("incomes.json").get("incomes", {})

    @cached_property
    def _unavailable_people(self) -> dict[str, frozenset[str]]:
        configured = self._load("availability.json").get("unavailable", {})
        return {source: frozenset(numbers) for source, numbers in configured.items()}

    def _check_available(self, source: str, personnummer: str) -> None:
        if source in self.unavailable_sources:
            raise RegisterUnavailable(source)
        if personnummer in self._unavailable_people.get(source, frozenset()):
            raise RegisterUnavailable(source)

    # RegisterConnector

    def sources(self) -> list[str]:
        return list(SOURCE_INCOME_TYPES)

    def fetch_source(self, *, source: str, personnummer: str, month: str) -> SourceAnswer:
        if source not in SOURCE_INCOME_TYPES:
            raise UnknownSource(source)
        month_validate(month)
        personnummer = _normalise(personnummer)
        # Availability first: a register that is down cannot say whether it knows the person.
        self._check_available(source, personnummer)
        if personnummer not in self._people:
            raise PersonNotFound(source)
        by_type = self._incomes.get(personnummer, {}).get(source, {})
        records = tuple(
            IncomeRecord(
                source=source, income_type=income_type, amount=int(months[month]), month=month
            )
            for income_type, months in sorted(by_type.items())
            if month in months
        )
        return SourceAnswer(
            source=source, month=month, records=records, answered=True, personnummer=personnummer
        )

    def population_household(self, *, personnummer: str) -> list[HouseholdMember]:
        personnummer = _normalise(personnummer)
        self._check_available(POPULATION_REGISTER, personnummer)
        person = self._people.get(personnummer)
        if person is None:
            raise PersonNotFound(POPULATION_REGISTER)
        members = [HouseholdMember(personnummer=personnummer, relation=RELATION_APPLICANT)]
        address_id = person.get("address_id")
        if address_id is None:
            # Not folkbokförd (coordination number): no registered address, no one else.
            return members
        partner = self._partner_of(personnummer)
        adults_of_applicant = {personnummer} | ({partner} if partner else set())
        for other in self._people.values():
            number = other["personnummer"]
            if number == personnummer or other.get("address_id") != address_id:
                continue
            members.append(
                HouseholdMember(
                    personnummer=number,
                    relation=self._relation(other, personnummer, partner, adults_of_applicant),
                )
            )
        return members

    def _partner_of(self, personnummer: str) -> str | None:
        own = self._people[personnummer].get("partner")
        if own:
            return own
        for other in self._people.values():
            if other.get("partner") == personnummer:
                return other["personnummer"]
        return None

    def _relation(
        self,
        other: dict[str, Any],
        personnummer: str,
        partner: str | None,
        adults_of_applicant: set[str],
    ) -> str:
        number = other["personnummer"]
        if number == partner:
            partnership = other.get("partnership") or self._people[personnummer].get("partnership")
            return RELATION_SPOUSE if partnership == "married" else RELATION_PARTNER
        guardians = set(other.get("guardians", []))
        if guardians & adults_of_applicant:
            return RELATION_CHILD
        if guardians:
            return RELATION_OTHER_CHILD
        return RELATION_OTHER_ADULT
