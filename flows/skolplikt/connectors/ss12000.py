"""SS 12000 sources: the interface, a file-backed implementation and an HTTP client.

Every principal (huvudman) delivers its school data through SS 12000; the home municipality
reads organisations (school units), persons with their enrolments, and aggregated attendance
(``GET /aggregatedAttendance?startDate=&endDate=&organisation=``). The scan asks for
attendance one school day at a time, because the standard aggregates over the interval asked
for and the robot needs days (whole days of unexcused absence) and weeks (the pattern).

A school that answers with no attendance at all is *not* a school without absence: the scan
turns it into ``report_missing``. Errors are raised as :class:`Ss12000Error` with a named
code, never turned into an empty answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel, ValidationError

from flows.skolplikt.schemas import (
    Activity,
    AggregatedAttendance,
    ObjectReference,
    Organisation,
    Person,
)

SS12000_FILE_MISSING = "SS12000_FILE_MISSING"
SS12000_MALFORMED = "SS12000_MALFORMED"  # not JSON, or not the standard's list shape
SS12000_INVALID = "SS12000_INVALID"  # JSON, but a record does not match the standard
SS12000_HTTP_STATUS = "SS12000_HTTP_STATUS"
SS12000_PAGE_MISSING = "SS12000_PAGE_MISSING"  # a pageToken the server no longer knows
SS12000_PAGING_LOOP = "SS12000_PAGING_LOOP"
SS12000_TIMEOUT = "SS12000_TIMEOUT"
SS12000_UNREACHABLE = "SS12000_UNREACHABLE"

FILE_ORGANISATIONS = "organisations.json"
FILE_PERSONS = "persons.json"
FILE_ACTIVITIES = "activities.json"
FILE_AGGREGATED_ATTENDANCE = "aggregatedAttendance.json"

# A safety net, not a limit on real data: more pages than this means the server loops.
MAX_PAGES = 10_000

M = TypeVar("M", bound=BaseModel)


class Ss12000Error(Exception):
    """An SS 12000 source that cannot be read; ``code`` is one of the ``SS12000_*`` names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@runtime_checkable
class Ss12000Source(Protocol):
    """What the scan needs from SS 12000."""

    def organisations(self) -> list[Organisation]:
        """All organisations (school units and their principals)."""
        ...

    def persons(self) -> list[Person]:
        """All persons the source knows, with their enrolments."""
        ...

    def aggregated_attendance(
        self, *, organisation: str, start_date: date, end_date: date
    ) -> list[AggregatedAttendance]:
        """Attendance of the school unit's activities summed over the interval (inclusive).

        An empty list means the school reported nothing for the interval.
        """
        ...


def _validate_all(model: type[M], records: Iterable[Any], *, where: str) -> list[M]:
    result = []
    for index, record in enumerate(records):
        try:
            result.append(model.model_validate(record))
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(p) for p in first["loc"])
            raise Ss12000Error(
                SS12000_INVALID,
                f"{where}: record {index} is not a valid {model.__name__} "
                f"({location}: {first['msg']}).",
            ) from None
    return result


def _list_body(body: Any, *, where: str) -> tuple[list[Any], str | None]:
    """Return (data, pageToken) of a standard list answer, or raise ``SS12000_MALFORMED``."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise Ss12000Error(SS12000_MALFORMED, f'{where}: expected an object with a "data" list.')
    token = body.get("pageToken")
    if token is not None and not isinstance(token, str):
        raise Ss12000Error(SS12000_MALFORMED, f"{where}: pageToken must be a string or null.")
    return body["data"], token or None


def sum_attendance(
    records: Iterable[AggregatedAttendance], *, start_date: date, end_date: date
) -> list[AggregatedAttendance]:
    """Sum stored records lying within the interval per (student, activity), as a server does.

    Used by the file source and by any test server built on it, so both answer a question
    for an interval the way the standard describes.
    """
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fields = (
        "attendanceSum",
        "validAbsenceSum",
        "invalidAbsenceSum",
        "otherAttendanceSum",
        "reportedSum",
        "offeredSum",
    )
    for record in records:
        if record.startDate < start_date or record.endDate > end_date:
            continue
        key = (record.student.id, record.activity.id)
        for field in fields:
            sums[key][field] += getattr(record, field)
    return [
        AggregatedAttendance(
            student=ObjectReference(id=student),
            activity=ObjectReference(id=activity),
            startDate=start_date,
            endDate=end_date,
            **values,
        )
        for (student, activity), values in sorted(sums.items())
    ]


class FileSs12000Source:
    """Reads SS 12000 list answers saved as JSON files in one directory.

    The files hold the standard's list shape ``{"data": [...]}``: ``organisations.json``,
    ``persons.json``, ``activities.json`` and ``aggregatedAttendance.json`` (records per
    pupil, activity and day). ``activities.json`` ties activities to school units, as a
    server does when it filters attendance by ``organisation``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def raw(self, name: str) -> list[Any]:
        """Return the ``data`` list of one file, checked for shape but not for content."""
        path = self.directory / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise Ss12000Error(SS12000_FILE_MISSING, f"No SS 12000 file {path}.") from None
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Ss12000Error(SS12000_MALFORMED, f"{path}: malformed JSON ({exc}).") from None
        data, _ = _list_body(body, where=str(path))
        return data

    @cached_property
    def _organisations(self) -> list[Organisation]:
        return _validate_all(Organisation, self.raw(FILE_ORGANISATIONS), where=FILE_ORGANISATIONS)

    @cached_property
    def _persons(self) -> list[Person]:
        return _validate_all(Person, self.raw(FILE_PERSONS), where=FILE_PERSONS)

    @cached_property
    def _attendance_by_organisation(self) -> dict[str, list[AggregatedAttendance]]:
        activities = _validate_all(Activity, self.raw(FILE_ACTIVITIES), where=FILE_ACTIVITIES)
        owner = {a.id: a.organisation.id for a in activities}
        records = _validate_all(
            AggregatedAttendance,
            self.raw(FILE_AGGREGATED_ATTENDANCE),
            where=FILE_AGGREGATED_ATTENDANCE,
        )
        by_organisation: dict[str, list[AggregatedAttendance]] = defaultdict(list)
        for index, record in enumerate(records):
            if record.activity.id not in owner:
                raise Ss12000Error(
                    SS12000_INVALID,
                    f"{FILE_AGGREGATED_ATTENDANCE}: record {index} names an activity "
                    f"that {FILE_ACTIVITIES} does not hold.",
                )
            by_organisation[owner[record.activity.id]].append(record)
        return by_organisation

    def organisations(self) -> list[Organisation]:
        return list(self._organisations)

    def persons(self) -> list[Person]:
        return list(self._persons)

    def aggregated_attendance(
        self, *, organisation: str, start_date: date, end_date: date
    ) -> list[AggregatedAttendance]:
        return sum_attendance(
            self._attendance_by_organisation.get(organisation, ()),
            start_date=start_date,
            end_date=end_date,
        )


class HttpSs12000Source:
    """An SS 12000 client over HTTP (httpx), following ``pageToken`` to the last page.

    Per the standard a ``pageToken`` "kan inte kombineras med andra filter men väl med
    limit": the follow-up requests send only the token and ``limit``. Authentication is a
    bearer token (the standard's JWT) when given.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
        timeout: float = 10.0,
        limit: int = 100,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.limit = limit
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpSs12000Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, Any], *, is_follow_up: bool) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise Ss12000Error(SS12000_TIMEOUT, f"GET {path}: no answer in time.") from None
        except httpx.TransportError as exc:
            raise Ss12000Error(
                SS12000_UNREACHABLE, f"GET {path}: server unreachable ({exc.__class__.__name__})."
            ) from None
        if is_follow_up and response.status_code in (404, 410):
            raise Ss12000Error(
                SS12000_PAGE_MISSING,
                f"GET {path}: the server no longer has the next page "
                f"(HTTP {response.status_code}); the answer would be incomplete.",
            )
        if response.status_code != 200:
            raise Ss12000Error(SS12000_HTTP_STATUS, f"GET {path}: HTTP {response.status_code}.")
        try:
            return response.json()
        except ValueError:
            raise Ss12000Error(SS12000_MALFORMED, f"GET {path}: malformed JSON.") from None

    def _get_all(self, path: str, params: dict[str, Any]) -> list[Any]:
        data: list[Any] = []
        seen: set[str] = set()
        body = self._get(path, {**params, "limit": self.limit}, is_follow_up=False)
        for _ in range(MAX_PAGES):
            page, token = _list_body(body, where=f"GET {path}")
            data.extend(page)
            if token is None:
                return data
            if token in seen:
                raise Ss12000Error(SS12000_PAGING_LOOP, f"GET {path}: pageToken repeated.")
            seen.add(token)
            body = self._get(path, {"pageToken": token, "limit": self.limit}, is_follow_up=True)
        raise Ss12000Error(SS12000_PAGING_LOOP, f"GET {path}: more than {MAX_PAGES} pages.")

    def organisations(self) -> list[Organisation]:
        return _validate_all(
            Organisation, self._get_all("/organisations", {}), where="organisations"
        )

    def persons(self) -> list[Person]:
        return _validate_all(Person, self._get_all("/persons", {}), where="persons")

    def aggregated_attendance(
        self, *, organisation: str, start_date: date, end_date: date
    ) -> list[AggregatedAttendance]:
        params = {
            "startDate": start_date.isoformat(),
            "endDate": end_date.isoformat(),
            "organisation": organisation,
        }
        return _validate_all(
            AggregatedAttendance,
            self._get_all("/aggregatedAttendance", params),
            where="aggregatedAttendance",
        )
