"""Building blocks every process's schemas share, and the API's own answers.

Unknown fields are refused, amounts are whole non-negative numbers, personnummer
carry a valid check digit and date and are stored canonically (12 digits). Each
process declares its own body schemas in its package (ProcessSpec.application_schema).
"""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StrictInt, field_validator

from municipality.personnummer import PersonnummerError, parse_personnummer

MAX_AMOUNT = 10_000_000
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT, description="Whole kronor per month")]
Text = Annotated[str, Field(max_length=200)]
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def canonical_pnr(value: str) -> str:
    try:
        return parse_personnummer(value).canonical
    except PersonnummerError as exc:
        raise ValueError(exc.message) from None


class Person(Strict):
    personnummer: str = Field(description="Personnummer or samordningsnummer, YYYYMMDDNNNC")
    name: Text = Field(min_length=1)

    _pnr = field_validator("personnummer")(canonical_pnr)


def check_period(value: str) -> str:
    match = _PERIOD.match(value)
    if not match:
        raise ValueError("period must be a month written YYYY-MM")
    if not 2020 <= int(match.group(1)) <= date.today().year + 1:
        raise ValueError("period is outside the years this service handles")
    return value


class CaseStatusOut(BaseModel):
    id: int
    external_ref: str
    process: str
    status: str
    status_url: str
    decision: dict | None = None
    # Held for manual review at intake (e.g. "duplicate_period"): a person decides first.
    flags: list[dict] = []
    # After a return: what is missing and by when (the request for completion's content).
    completion: dict | None = None
    documents: list[dict] = []


class CallbackIn(Strict):
    url: HttpUrl = Field(description="https URL that receives a POST per status change")


class CallbackOut(BaseModel):
    url: str
    secret: str = Field(description="HMAC-SHA256 key; shown only now")
    signature: str


class ErrorOut(BaseModel):
    errors: dict[str, list[str]]


class OutcomeOut(BaseModel):
    code: str
    label: str
    against_party: bool


class DecisionTypeOut(BaseModel):
    code: str
    label: str
    has_amount: bool
    outcomes: list[OutcomeOut]


class ProcessOut(BaseModel):
    """A registered process as GET /api/v1/processes/ and `manage.py processes --json` give it."""

    slug: str
    name: str
    description: str
    unit: str
    public_authority: bool
    decision_mode: Literal["human", "automatic", "exceptions"]
    decision_types: list[DecisionTypeOut]
    triggers: list[str]
    schedule: str | None
    due_working_days: int
    minutes_saved_per_case: int
    deployment: str
