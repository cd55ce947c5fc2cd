"""Pydantic models for the parts of SS 12000 (SIS, version 2.x) the robot reads.

Field names are the standard's (OpenAPI components ``Organisation``, ``Person``,
``Enrolment``, ``Activity``, ``AggregatedAttendance``; list answers ``{"data": [...],
"pageToken": ...}``), read from the public specification as mirrored in
github.com/stefan-jonasson/ss12000v2 and in generated clients of v2.0/2.1. Unknown fields are
ignored, not refused: a supplier sending more of the standard than the robot needs is normal.

A note on the word "placement". In SS 12000 ``/placements`` is the resource for förskola and
fritidshem (``schoolType`` FS, FTH, OPPFTH). A pupil's place in förskoleklass or grundskola is
an ``Enrolment`` (``Person.enrolments``: ``enroledAt`` school unit, ``schoolType``,
``schoolYear``, ``startDate``/``endDate`` inclusive). The robot therefore reads the
compulsory-school "placements" from the enrolments; the rest of this package calls one such
enrolment a placement.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

# SS 12000 SchoolTypesEnum values for the compulsory school forms (Skollag 7 kap. 4 §):
# förskoleklass, grundskola, anpassad grundskola, specialskola, sameskola.
COMPULSORY_SCHOOL_TYPES = frozenset({"FKLASS", "GR", "GRS", "SP", "SAM"})
SPECIAL_SCHOOL_TYPE = "SP"

# Person.securityMarking values; anything but "Ingen" is treated as protected.
SECURITY_MARKING_NONE = "Ingen"

ORGANISATION_TYPE_SCHOOL_UNIT = "Skolenhet"
ORGANISATION_TYPE_PRINCIPAL = "Huvudman"


class _Standard(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ObjectReference(_Standard):
    id: str
    displayName: str | None = None


class Organisation(_Standard):
    id: str
    displayName: str
    organisationType: str
    organisationNumber: str | None = None
    parentOrganisation: ObjectReference | None = None
    schoolUnitCode: str | None = None
    schoolTypes: tuple[str, ...] = ()
    municipalityCode: str | None = None
    startDate: date | None = None
    endDate: date | None = None


class CivicNo(_Standard):
    # 12 digits, no separator; the standard also allows temporary numbers (letters in
    # positions 9–10), which the population register never matches.
    value: str = Field(pattern=r"^\d{8}[A-Z0-9]{2}\d{2}$")
    nationality: str = "SE"


class Enrolment(_Standard):
    enroledAt: ObjectReference
    schoolType: str
    schoolYear: int | None = None
    startDate: date
    endDate: date | None = None
    cancelled: bool = False


class Person(_Standard):
    id: str
    givenName: str
    familyName: str
    civicNo: CivicNo | None = None
    securityMarking: str = SECURITY_MARKING_NONE
    enrolments: tuple[Enrolment, ...] = ()


class Activity(_Standard):
    id: str
    displayName: str | None = None
    organisation: ObjectReference


class AggregatedAttendance(_Standard):
    """Minutes for one student and activity over ``startDate``–``endDate`` (inclusive).

    ``offeredSum`` is the scheduled time the pupil was offered; ``validAbsenceSum`` is
    giltig frånvaro and ``invalidAbsenceSum`` ogiltig frånvaro.
    """

    activity: ObjectReference
    student: ObjectReference
    startDate: date
    endDate: date
    attendanceSum: int = Field(default=0, ge=0)
    validAbsenceSum: int = Field(default=0, ge=0)
    invalidAbsenceSum: int = Field(default=0, ge=0)
    otherAttendanceSum: int = Field(default=0, ge=0)
    reportedSum: int = Field(default=0, ge=0)
    offeredSum: int = Field(default=0, ge=0)


# ---------------------------------------------------------------- the run endpoint's body and answer


class RunIn(BaseModel):
    """POST /api/v1/runs/skolplikt/: which month to scan."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    month: str = Field(description="The month to scan, YYYY-MM", examples=["2026-11"])


class RunOut(BaseModel):
    """What a scan run did: counts and case ids, never a name or a personnummer."""

    month: str
    ruleset_version: str
    checked: bool
    children_of_compulsory_age: int
    flagged: int
    opened: list[int]
    existing: list[int]
    conflicts: list[str]
    schools_without_report: list[str]
