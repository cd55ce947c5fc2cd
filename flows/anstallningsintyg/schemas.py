"""The HR/payroll data the certificates are written from, as pydantic models.

The models check what a single record can get wrong (an unknown employment form, a
malformed month, a personnummer with a wrong check digit, a negative amount). What only the
whole history can get wrong (overlapping periods, an ended employment without a reason,
hours in a month outside the employment) is left to `rules.employee_findings`, because
those are facts about the data an HR officer must settle, not malformed input.

Codes are the Swedish terms, without diacritics; the labels are what the documents print.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from municipality.personnummer import PersonnummerError, luhn_check_digit, parse_personnummer

# Anställningsformer. Lagen (1982:80) om anställningsskydd, 4–6 §§: an employment is
# tillsvidare unless a fixed-term form is agreed. Allmän visstidsanställning could be
# agreed until 30 September 2022; from 1 October 2022 it is replaced by särskild
# visstidsanställning (SFS 2022:836). Timavlönad (intermittent employment, "behovs-
# anställning") is how municipal payroll records hourly-paid staff called in as needed.
FORM_TILLSVIDARE = "tillsvidare"
FORM_PROVANSTALLNING = "provanstallning"
FORM_ALLMAN_VISSTID = "allman_visstid"
FORM_SARSKILD_VISSTID = "sarskild_visstid"
FORM_VIKARIAT = "vikariat"
FORM_TIMAVLONAD = "timavlonad"

EMPLOYMENT_FORM_LABELS: dict[str, str] = {
    FORM_TILLSVIDARE: "Tillsvidareanställning",
    FORM_PROVANSTALLNING: "Provanställning",
    FORM_ALLMAN_VISSTID: "Allmän visstidsanställning",
    FORM_SARSKILD_VISSTID: "Särskild visstidsanställning",
    FORM_VIKARIAT: "Vikariat",
    FORM_TIMAVLONAD: "Timavlönad (intermittent anställning)",
}
FIXED_TERM_FORMS = frozenset({FORM_ALLMAN_VISSTID, FORM_SARSKILD_VISSTID, FORM_VIKARIAT})
# The last day an allmän visstidsanställning could begin (SFS 2022:836, in force 2022-10-01).
ALLMAN_VISSTID_LAST_START = date(2022, 9, 30)

# Why an employment ended: the alternatives the unemployment fund asks the employer about.
END_EGEN_UPPSAGNING = "egen_uppsagning"
END_ARBETSBRIST = "arbetsbrist"
END_PERSONLIGA_SKAL = "personliga_skal"
END_AVSKED = "avsked"
END_VISSTID_UPPHORDE = "visstid_upphorde"
END_PROVANSTALLNING_AVBROTS = "provanstallning_avbrots"
END_OVERENSKOMMELSE = "overenskommelse"
END_PENSION = "pension"

END_REASON_LABELS: dict[str, str] = {
    END_EGEN_UPPSAGNING: "Egen uppsägning",
    END_ARBETSBRIST: "Uppsägning på grund av arbetsbrist",
    END_PERSONLIGA_SKAL: "Uppsägning av personliga skäl",
    END_AVSKED: "Avsked",
    END_VISSTID_UPPHORDE: "Anställningen upphörde (visstidsanställningen löpte ut)",
    END_PROVANSTALLNING_AVBROTS: "Provanställningen avbröts",
    END_OVERENSKOMMELSE: "Överenskommelse mellan arbetsgivare och arbetstagare",
    END_PENSION: "Pension",
}

# Kinds of leave (ledighet) the payroll records against an employment.
LEAVE_FORALDRALEDIG = "foraldraledig"
LEAVE_TJANSTLEDIG = "tjanstledig"
LEAVE_STUDIELEDIG = "studieledig"
LEAVE_SJUK = "sjuk"
LEAVE_KIND_LABELS: dict[str, str] = {
    LEAVE_FORALDRALEDIG: "Föräldraledighet",
    LEAVE_TJANSTLEDIG: "Tjänstledighet",
    LEAVE_STUDIELEDIG: "Studieledighet",
    LEAVE_SJUK: "Sjukfrånvaro",
}

EmploymentForm = Literal[
    "tillsvidare",
    "provanstallning",
    "allman_visstid",
    "sarskild_visstid",
    "vikariat",
    "timavlonad",
]
EndReason = Literal[
    "egen_uppsagning",
    "arbetsbrist",
    "personliga_skal",
    "avsked",
    "visstid_upphorde",
    "provanstallning_avbrots",
    "overenskommelse",
    "pension",
]
LeaveKind = Literal["foraldraledig", "tjanstledig", "studieledig", "sjuk"]

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_ORGANISATION_NUMBER = re.compile(r"^[0-9]{6}-[0-9]{4}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Employer(_Strict):
    """The employer who issues the certificate: the municipality."""

    name: str = Field(min_length=1)
    organisation_number: str
    address: str = ""
    hr_contact: str = ""

    @field_validator("organisation_number")
    @classmethod
    def _organisation_number(cls, value: str) -> str:
        # Same Luhn digit as a personnummer, over the first nine digits.
        if not _ORGANISATION_NUMBER.match(value):
            raise ValueError("organisation number must be written NNNNNN-NNNN")
        digits = value.replace("-", "")
        if luhn_check_digit(digits[:9]) != int(digits[9]):
            raise ValueError("organisation number check digit does not match")
        return value


class MonthRecord(_Strict):
    """What payroll reported for one calendar month of one employment."""

    month: str
    hours_worked: float = Field(ge=0)
    absence_hours: float = Field(default=0, ge=0)
    overtime_hours: float = Field(default=0, ge=0)
    # Gross pay (bruttolön) in whole kronor, as in the monthly arbetsgivardeklaration.
    gross_pay: int = Field(ge=0)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError("month must be 'YYYY-MM'")
        return value


class Leave(_Strict):
    """A leave period (ledighet) from an employment."""

    kind: LeaveKind
    start: date
    end: date
    extent_percent: int = Field(default=100, gt=0, le=100)
    paid: bool = False


class Severance(_Strict):
    """Avgångsvederlag agreed when the employment ended."""

    amount: int = Field(gt=0)
    paid_month: str | None = None

    @field_validator("paid_month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None and not _MONTH.match(value):
            raise ValueError("paid_month must be 'YYYY-MM'")
        return value


class Employment(_Strict):
    """One employment (anställning): one position, one form, one extent, one period."""

    id: str = Field(min_length=1)
    position: str = Field(min_length=1)  # befattning
    workplace: str = ""
    form: EmploymentForm
    start: date
    end: date | None = None  # last day; None: until further notice
    # Sysselsättningsgrad; None for timavlönad, whose working time varies.
    extent_percent: int | None = Field(default=None, gt=0, le=100)
    full_time_hours_per_week: float = Field(default=40, gt=0, le=48)
    monthly_salary: int | None = Field(default=None, ge=0)
    hourly_rate: int | None = Field(default=None, ge=0)
    notice_date: date | None = None  # the day notice was given (uppsägningsdag)
    end_reason: EndReason | None = None
    severance: Severance | None = None
    leave: tuple[Leave, ...] = ()
    months: tuple[MonthRecord, ...] = ()


class Employee(_Strict):
    id: str = Field(min_length=1)
    personnummer: str
    name: str = Field(min_length=1)
    employments: tuple[Employment, ...] = ()

    @field_validator("personnummer")
    @classmethod
    def _personnummer(cls, value: str) -> str:
        try:
            return parse_personnummer(value).canonical
        except PersonnummerError as exc:
            # The message never repeats the number (see municipality.personnummer).
            raise ValueError(exc.message) from None


class HRFile(_Strict):
    """The whole file-backed HR/payroll register."""

    about: str = ""
    employer: Employer
    employees: tuple[Employee, ...]
