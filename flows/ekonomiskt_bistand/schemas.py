"""Application JSON, version 1, of ekonomiskt bistånd: validated at the edge before anything is stored.

Unknown fields are refused, amounts are whole non-negative kronor, personnummer
carry a valid check digit and date. The same models are reused by the OpenAPI
schema that the API serves.
"""

from typing import Literal

from pydantic import Field, StrictInt, field_validator, model_validator

from approvals.schemas import Amount, Person, Strict, Text, canonical_pnr, check_period
from municipality.personnummer import parse_personnummer


class Child(Strict):
    personnummer: str
    lunch_outside_home: bool = False
    lives_at_home: bool = True
    work_income: Amount = 0

    _pnr = field_validator("personnummer")(canonical_pnr)


class OtherItem(Strict):
    description: Text = Field(min_length=1)
    amount: Amount


class Costs(Strict):
    rent: Amount = 0
    electricity: Amount = 0
    home_insurance: Amount = 0
    work_travel: Amount = 0
    union_fees: Amount = 0
    childcare: Amount = 0
    medical: Amount = 0
    other: list[OtherItem] = Field(default_factory=list, max_length=50)


class Incomes(Strict):
    salary_net: Amount = 0
    housing_allowance: Amount = 0
    child_allowance: Amount = 0
    large_family_supplement: Amount = 0
    maintenance_support: Amount = 0
    sickness_benefit: Amount = 0
    parental_benefit: Amount = 0
    activity_support: Amount = 0
    unemployment_benefit: Amount = 0
    pension: Amount = 0
    student_aid: Amount = 0
    other: list[OtherItem] = Field(default_factory=list, max_length=50)


class ApplicationV1(Strict):
    """A re-application for ekonomiskt bistånd for one month."""

    process: Literal["ekonomiskt-bistand"]
    external_ref: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    period: str = Field(description="Month applied for, YYYY-MM")
    applicant: Person
    co_applicant: Person | None = None
    other_adults: list[Person] = Field(default_factory=list, max_length=10)
    children: list[Child] = Field(default_factory=list, max_length=15)
    months_on_assistance: StrictInt = Field(0, ge=0, le=600)
    costs: Costs = Field(default_factory=Costs)
    incomes: Incomes = Field(default_factory=Incomes)
    message: str = Field("", max_length=5000)

    _period = field_validator("period")(check_period)

    @model_validator(mode="after")
    def _household_is_consistent(self):
        numbers = [self.applicant.personnummer]
        numbers += [self.co_applicant.personnummer] if self.co_applicant else []
        numbers += [p.personnummer for p in self.other_adults] + [
            c.personnummer for c in self.children
        ]
        if len(set(numbers)) != len(numbers):
            raise ValueError("the same personnummer appears twice in the household")
        year, month = (int(x) for x in self.period.split("-"))
        for index, child in enumerate(self.children):
            age = parse_personnummer(child.personnummer).age_during_month(year, month)
            if not 0 <= age <= 20:
                raise ValueError(f"children[{index}] is not 0–20 years old in the period")
        return self


class SupplementV1(Strict):
    """What the applicant's system sends after a return for completion."""

    costs: Costs | None = None
    incomes: Incomes | None = None
    children: list[Child] | None = Field(None, max_length=15)
    co_applicant: Person | None = None
    other_adults: list[Person] | None = Field(None, max_length=10)
    months_on_assistance: StrictInt | None = Field(None, ge=0, le=600)
    message: str | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.model_fields_set:
            raise ValueError("a supplement must contain at least one part")
        return self


