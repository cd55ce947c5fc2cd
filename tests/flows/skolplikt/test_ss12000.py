"""SS 12000 sources: the file-backed one and the HTTP client against a real local server."""

from datetime import date
from pathlib import Path

import pytest

from flows.skolplikt.connectors.population import FilePopulationRegister
from flows.skolplikt.connectors.ss12000 import (
    SS12000_FILE_MISSING,
    SS12000_HTTP_STATUS,
    SS12000_INVALID,
    SS12000_MALFORMED,
    SS12000_PAGE_MISSING,
    SS12000_TIMEOUT,
    SS12000_UNREACHABLE,
    FileSs12000Source,
    HttpSs12000Source,
    Ss12000Error,
    Ss12000Source,
)
from flows.skolplikt.scan import scan
from municipality.runtime import free_port
from tests.flows.skolplikt.builders import (
    SCHOOL_A,
    SCHOOL_B,
    day_record,
    enrolment,
    person,
    pnr,
    write_source,
)
from tests.flows.skolplikt.ss12000_server import Ss12000TestServer

NOV = [date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)]


@pytest.fixture
def source_dir(tmp_path):
    persons = [
        person(f"p{n}", pnr("20150101", f"{900 + n}"), [enrolment(SCHOOL_A, "2022-08-17")])
        for n in range(7)
    ]
    attendance = [
        day_record(f"p{n}", SCHOOL_A, day, invalid=n * 10) for n in range(7) for day in NOV
    ]
    attendance.append(day_record("p0", SCHOOL_B, NOV[0], valid=5))
    write_source(tmp_path, children=[], persons=persons, attendance=attendance)
    return tmp_path / "ss12000"


def test_both_implementations_satisfy_the_protocol(source_dir):
    """The file source and the HTTP client are both Ss12000Source."""
    assert isinstance(FileSs12000Source(source_dir), Ss12000Source)
    client = HttpSs12000Source(base_url="http://127.0.0.1:1")
    assert isinstance(client, Ss12000Source)
    client.close()


def test_file_source_sums_days_of_an_interval_per_student_and_activity(source_dir):
    """Asked for a week, the file source sums that week's day records as a server would."""
    records = FileSs12000Source(source_dir).aggregated_attendance(
        organisation=SCHOOL_A, start_date=date(2026, 11, 2), end_date=date(2026, 11, 6)
    )
    by_student = {r.student.id: r for r in records}
    assert len(records) == 7
    assert by_student["p3"].offeredSum == 5 * 300
    assert by_student["p3"].invalidAbsenceSum == 5 * 30
    assert by_student["p3"].startDate == date(2026, 11, 2)
    assert by_student["p3"].endDate == date(2026, 11, 6)


def test_file_source_filters_by_organisation_through_activities(source_dir):
    """Only the activities of the school unit asked for are counted."""
    records = FileSs12000Source(source_dir).aggregated_attendance(
        organisation=SCHOOL_B, start_date=NOV[0], end_date=NOV[0]
    )
    assert [(r.student.id, r.validAbsenceSum) for r in records] == [("p0", 5)]


def test_file_source_school_without_records_answers_empty_not_error(source_dir):
    """A school that reported nothing gives an empty list (the scan flags it)."""
    assert (
        FileSs12000Source(source_dir).aggregated_attendance(
            organisation="school-free", start_date=NOV[0], end_date=NOV[-1]
        )
        == []
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, SS12000_FILE_MISSING),
        ("{", SS12000_MALFORMED),
        ('[{"id": "x"}]', SS12000_MALFORMED),
        ('{"data": [{"id": "x"}]}', SS12000_INVALID),
        (
            '{"data": [{"id": "p", "givenName": "A", "familyName": "B", '
            '"civicNo": {"value": "2015"}}]}',
            SS12000_INVALID,
        ),
    ],
)
def test_file_source_bad_files_raise_named_errors(source_dir, content, code):
    """Missing, malformed and invalid files each raise their own code."""
    path = source_dir / "persons.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    with pytest.raises(Ss12000Error) as info:
        FileSs12000Source(source_dir).persons()
    assert info.value.code == code


def test_attendance_naming_an_unknown_activity_is_invalid(source_dir):
    """An attendance record whose activity is not in activities.json is refused."""
    (source_dir / "activities.json").write_text('{"data": []}')
    with pytest.raises(Ss12000Error) as info:
        FileSs12000Source(source_dir).aggregated_attendance(
            organisation=SCHOOL_A, start_date=NOV[0], end_date=NOV[0]
        )
    assert info.value.code == SS12000_INVALID


def test_http_pages_through_and_equals_the_file_source(source_dir):
    """With limit 3 the client follows pageToken to the end and gets what the files hold."""
    file_source = FileSs12000Source(source_dir)
    with (
        Ss12000TestServer(source_dir) as server,
        HttpSs12000Source(base_url=server.url, limit=3) as client,
    ):
        persons = client.persons()
        organisations = client.organisations()
        week = client.aggregated_attendance(
            organisation=SCHOOL_A, start_date=NOV[0], end_date=NOV[4]
        )
    assert persons == file_source.persons()
    assert organisations == file_source.organisations()
    assert week == file_source.aggregated_attendance(
        organisation=SCHOOL_A, start_date=NOV[0], end_date=NOV[4]
    )
    person_pages = [q for path, q, _ in server.requests if path == "/persons"]
    assert len(person_pages) == 3  # 7 persons, 3 a page


def test_http_follow_up_pages_send_only_the_token_and_limit(source_dir):
    """A pageToken is combined with limit only, as the standard requires."""
    with (
        Ss12000TestServer(source_dir) as server,
        HttpSs12000Source(base_url=server.url, limit=2) as client,
    ):
        client.aggregated_attendance(organisation=SCHOOL_A, start_date=NOV[0], end_date=NOV[0])
    first, *rest = [q for path, q, _ in server.requests if path == "/aggregatedAttendance"]
    assert first == {
        "startDate": ["2026-11-02"],
        "endDate": ["2026-11-02"],
        "organisation": [SCHOOL_A],
        "limit": ["2"],
    }
    assert rest and all(set(q) == {"pageToken", "limit"} for q in rest)


def test_http_sends_the_bearer_token(source_dir):
    """The client authenticates with the bearer token it was given; without it: 401 error."""
    with Ss12000TestServer(source_dir, token="s3cret") as server:
        with HttpSs12000Source(base_url=server.url, token="s3cret") as client:
            assert client.organisations()
        with HttpSs12000Source(base_url=server.url) as client, pytest.raises(Ss12000Error) as info:
            client.organisations()
    assert info.value.code == SS12000_HTTP_STATUS
    assert "401" in info.value.message


def test_http_server_error_is_a_named_error(source_dir):
    """HTTP 500 raises SS12000_HTTP_STATUS, not an empty answer."""
    with Ss12000TestServer(source_dir) as server, HttpSs12000Source(base_url=server.url) as client:
        server.fail_status["/aggregatedAttendance"] = 500
        with pytest.raises(Ss12000Error) as info:
            client.aggregated_attendance(organisation=SCHOOL_A, start_date=NOV[0], end_date=NOV[0])
    assert info.value.code == SS12000_HTTP_STATUS
    assert "500" in info.value.message


def test_http_malformed_json_is_a_named_error(source_dir):
    """A body that is not JSON raises SS12000_MALFORMED."""
    with Ss12000TestServer(source_dir) as server, HttpSs12000Source(base_url=server.url) as client:
        server.malformed.add("/persons")
        with pytest.raises(Ss12000Error) as info:
            client.persons()
    assert info.value.code == SS12000_MALFORMED


def test_http_missing_page_is_not_a_short_answer(source_dir):
    """When the next page is gone (404 for the token), the whole read fails."""
    with (
        Ss12000TestServer(source_dir) as server,
        HttpSs12000Source(base_url=server.url, limit=2) as client,
    ):
        server.lose_pages = True
        with pytest.raises(Ss12000Error) as info:
            client.persons()
    assert info.value.code == SS12000_PAGE_MISSING


def test_http_timeout_is_a_named_error(source_dir):
    """A server slower than the timeout raises SS12000_TIMEOUT."""
    with (
        Ss12000TestServer(source_dir) as server,
        HttpSs12000Source(base_url=server.url, timeout=0.2) as client,
    ):
        server.delay = 1.0
        with pytest.raises(Ss12000Error) as info:
            client.organisations()
    assert info.value.code == SS12000_TIMEOUT


def test_http_unreachable_server_is_a_named_error():
    """Nothing listening on the port raises SS12000_UNREACHABLE."""
    with HttpSs12000Source(base_url=f"http://127.0.0.1:{free_port()}", timeout=2) as client:
        with pytest.raises(Ss12000Error) as info:
            client.organisations()
    assert info.value.code == SS12000_UNREACHABLE


def test_scan_over_http_equals_scan_over_files():
    """The demo month scanned through the HTTP client (limit 4) gives the file scan's result."""
    demo = Path(__file__).resolve().parents[3] / "data" / "skolplikt"
    register = FilePopulationRegister(demo)
    expected = scan(month="2026-11", register=register, ss12000=FileSs12000Source(demo / "ss12000"))
    with (
        Ss12000TestServer(demo / "ss12000") as server,
        HttpSs12000Source(base_url=server.url, limit=4) as client,
    ):
        over_http = scan(month="2026-11", register=register, ss12000=client)
    assert over_http == expected
    attendance_calls = [q for path, q, _ in server.requests if path == "/aggregatedAttendance"]
    # Three school units with pupils of ours, 21 school days each, first pages only counted.
    assert len([q for q in attendance_calls if "pageToken" not in q]) == 3 * 21
