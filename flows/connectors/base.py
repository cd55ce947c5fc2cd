"""The one interface behind which the external registers sit.

Financial-assistance casework reads incomes from the SSBTEK exchange (Skatteverket,
Försäkringskassan, CSN, Pensionsmyndigheten, the unemployment funds) and the household
from Skatteverket's population register (folkbokföring). None of them can be reached from
a development machine, so flows talk to a `RegisterConnector` and the deployment chooses
the implementation (`settings.REGISTER_CONNECTOR`).

A register that does not answer raises `RegisterUnavailable`. It must never be turned into
an empty answer or a zero: the caseworker has to see that the information is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Register sources, named by the authority that answers.
SOURCE_SKATTEVERKET = "skatteverket"
SOURCE_FORSAKRINGSKASSAN = "forsakringskassan"
SOURCE_CSN = "csn"
SOURCE_AKASSA = "akassa"
SOURCE_PENSIONSMYNDIGHETEN = "pensionsmyndigheten"
# Skatteverket's population register (Navet), asked for the registered household.
POPULATION_REGISTER = "folkbokforing"

# Income types each source reports, using the application's income keys. Arbetsförmedlingen
# is absent on purpose: it reports whether a person is registered as a job seeker, not
# amounts; the activity support it decides on is paid, and reported, by Försäkringskassan.
SOURCE_INCOME_TYPES: dict[str, tuple[str, ...]] = {
    SOURCE_SKATTEVERKET: ("salary_net",),
    SOURCE_FORSAKRINGSKASSAN: (
        "housing_allowance",
        "child_allowance",
        "large_family_supplement",
        "maintenance_support",
        "sickness_benefit",
        "parental_benefit",
        "activity_support",
    ),
    SOURCE_CSN: ("student_aid",),
    SOURCE_AKASSA: ("unemployment_benefit",),
    SOURCE_PENSIONSMYNDIGHETEN: ("pension",),
}

# Every income key a register may report that the calculation knows how to count.
KNOWN_INCOME_TYPES: frozenset[str] = frozenset(
    income_type for types in SOURCE_INCOME_TYPES.values() for income_type in types
)

SOURCE_LABELS_SV: dict[str, str] = {
    SOURCE_SKATTEVERKET: "Skatteverket",
    SOURCE_FORSAKRINGSKASSAN: "Försäkringskassan",
    SOURCE_CSN: "CSN",
    SOURCE_AKASSA: "Arbetslöshetskassan",
    SOURCE_PENSIONSMYNDIGHETEN: "Pensionsmyndigheten",
    POPULATION_REGISTER: "Folkbokföringen",
}

# Relations in the population register, seen from the person asked about.
RELATION_APPLICANT = "applicant"
RELATION_SPOUSE = "spouse"  # married or registered partner (make/maka)
RELATION_PARTNER = "partner"  # cohabiting partner (sambo)
RELATION_CHILD = "child"  # child of the person or of their spouse/partner
RELATION_OTHER_ADULT = "other_adult"
# A minor registered at the address who is not the person's child (e.g. the child of the
# other adult in a shared household). Not part of the applicant's household for the norm.
RELATION_OTHER_CHILD = "other_child"
RELATIONS: tuple[str, ...] = (
    RELATION_APPLICANT,
    RELATION_SPOUSE,
    RELATION_PARTNER,
    RELATION_CHILD,
    RELATION_OTHER_ADULT,
    RELATION_OTHER_CHILD,
)

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_validate(month: str) -> str:
    """Return `month` if it is "YYYY-MM", else raise ValueError (no silent empty answer)."""
    if not isinstance(month, str) or not _MONTH_RE.match(month):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return month


@dataclass(frozen=True)
class IncomeRecord:
    """One payment a register reports for one person, income type and month (kronor, net)."""

    source: str
    income_type: str
    amount: int
    month: str


@dataclass(frozen=True)
class SourceAnswer:
    """What one source said about one person for one month.

    `answered=False` marks a register that did not answer; `records` is then empty and
    means "unknown", not "nothing paid". `personnummer` ties the answer to the household
    member it is about, so gaps can be filled per person from an earlier month.
    """

    source: str
    month: str
    records: tuple[IncomeRecord, ...]
    answered: bool = True
    personnummer: str | None = None


@dataclass(frozen=True)
class HouseholdMember:
    """A person registered at the same address, with their relation to the person asked."""

    personnummer: str
    relation: str


class RegisterError(Exception):
    """Base class for register errors."""


class RegisterUnavailable(RegisterError):
    """The register did not answer.

    The flow waits and retries, then hands the case to the caseworker with the gap marked.
    """

    def __init__(self, source: str):
        self.source = source
        super().__init__(f"register {source!r} did not answer")


class PersonNotFound(RegisterError):
    """The register knows no person with that identity number.

    The message deliberately leaves the number out: exceptions end up in logs.
    """

    def __init__(self, source: str | None = None):
        self.source = source
        super().__init__(f"person not found in {source}" if source else "person not found")


class UnknownSource(RegisterError, ValueError):
    """A source name that the connector does not serve."""

    def __init__(self, source: str):
        self.source = source
        super().__init__(f"unknown register source {source!r}")


@runtime_checkable
class RegisterConnector(Protocol):
    """Reads incomes and the registered household from the external registers."""

    def sources(self) -> list[str]:
        """Names of the income sources this connector can ask (keys of SOURCE_INCOME_TYPES)."""
        ...

    def fetch_source(self, *, source: str, personnummer: str, month: str) -> SourceAnswer:
        """Ask one source what it paid one person in one month.

        Income types the application does not know are passed through unchanged, never
        dropped. Raises RegisterUnavailable, PersonNotFound or UnknownSource.
        """
        ...

    def population_household(self, *, personnummer: str) -> list[HouseholdMember]:
        """People registered at the person's address, the person first as "applicant".

        Raises PersonNotFound or RegisterUnavailable(POPULATION_REGISTER).
        """
        ...
