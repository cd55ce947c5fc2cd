"""POST /api/v1/runs/skolplikt/: who may start a scan, bad months, one case per child, twice."""

import json

import pytest

from approvals.models import AuditEvent, Case, CaseParty, PrefectCommand, RejectedSubmission
from flows.skolplikt.demo import DEMO_SKOLPLIKT_TOKEN, ROBOT_USERNAME
from flows.skolplikt.steps import external_ref_for, month_before
from municipality.demo import DEMO_INTEGRATION_TOKEN
from municipality.models import ApiToken, Staff

from .robot_helpers import (
    BO_LIND,
    ELIAS_BERG,
    FLAGGED_NOVEMBER,
    JUNI_ABERG,
    MONTH,
    RUN_PATH,
    demo_child,
    demo_register,
    identifying_forms,
    run,
    source_with,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "auth", [None, "rf_no_such_token", DEMO_INTEGRATION_TOKEN], ids=["none", "unknown", "other"]
)
def test_run_refused_without_the_process_owners_token(org, api_post, auth):
    """No token, an unknown one, or another unit's integration account: 401 JSON, no case."""
    response = run(api_post, auth=auth)
    assert response.status_code == 401
    assert response.json()["errors"]["authorization"]
    assert not Case.objects.filter(process="skolplikt").exists()


def test_run_refused_for_a_revoked_token(org, api_post):
    """A revoked process-owner token is refused like a missing one."""
    from django.utils import timezone

    ApiToken.objects.filter(token_sha256=ApiToken.hash(DEMO_SKOLPLIKT_TOKEN)).update(
        revoked_at=timezone.now()
    )
    assert run(api_post).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "11/2026"}, "month"),
        ({"month": "1999-01"}, "month"),
        ({"month": 202611}, "month"),
        ({}, "month"),
        ({"month": MONTH, "extra": 1}, "extra"),
        ("{not json", "body"),
        ("[]", "body"),
    ],
    ids=["month13", "format", "before-rules", "number", "missing", "extra", "malformed", "list"],
)
def test_bad_body_is_400_json_and_kept(org, api_post, body, field):
    """A bad month or body: 400 with an error per field, the body kept, nothing opened."""
    response = api_post(RUN_PATH, body, auth=DEMO_SKOLPLIKT_TOKEN)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert RejectedSubmission.objects.filter(path=RUN_PATH).count() == 1
    assert not Case.objects.filter(process="skolplikt").exists()


def test_run_opens_one_case_per_flagged_child_then_nothing_new(org, api_post):
    """The first run opens a case per flagged child, each with its own flow start queued;
    the second run for the month answers 200 with the same cases and opens nothing."""
    first = run(api_post)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["month"] == MONTH and body["ruleset_version"] == "skolplikt-2026-01"
    assert body["flagged"] == FLAGGED_NOVEMBER == len(body["opened"])
    assert body["existing"] == [] and body["conflicts"] == []
    assert body["schools_without_report"] == ["99990003"]
    cases = Case.objects.filter(process="skolplikt")
    assert sorted(cases.values_list("pk", flat=True)) == sorted(body["opened"])
    robot = org["users"][ROBOT_USERNAME]
    assert robot.staff.kind == Staff.Kind.ROBOT
    for case in cases:
        assert case.received_by == robot
        assert case.unit.code == "bsn-elevhalsa" and case.public_authority
        assert (
            case.data["month"] == MONTH
            and case.data["reason"] in case.payload["finding"]["reasons"]
        )
        pnr = case.payload["finding"]["personnummer"]
        assert case.external_ref == external_ref_for(month=MONTH, personnummer=pnr)
        assert pnr not in case.external_ref
        assert json.loads(case.raw_body) == case.payload
        assert PrefectCommand.objects.filter(case=case, kind="start").count() == 1
        assert AuditEvent.objects.filter(case=case, kind="robot.step").exists()

    second = run(api_post)
    assert second.status_code == 200
    assert second.json()["opened"] == []
    assert sorted(second.json()["existing"]) == sorted(body["opened"])
    assert cases.count() == FLAGGED_NOVEMBER
    assert PrefectCommand.objects.filter(case__process="skolplikt").count() == FLAGGED_NOVEMBER


def test_answer_names_no_one(org, api_post):
    """The run's answer carries ids, counts and school unit codes: no child is identifiable."""
    text = run(api_post).content.decode()
    for child in demo_register()["children"]:
        for form in identifying_forms(child):
            assert form not in text, form


def test_parties_are_the_child_and_each_guardian(org, api_post):
    """Each case names the child (role child) and every guardian (role guardian)."""
    run(api_post)
    for number in (BO_LIND, ELIAS_BERG):
        child = demo_child(number)
        case = Case.objects.get(
            process="skolplikt", parties__role="child", parties__personnummer=number
        )
        parties = {(p.personnummer, p.role, p.name) for p in case.parties.all()}
        expected = {(number, "child", child["name"])}
        expected |= {(g["personnummer"], "guardian", g["name"]) for g in child["guardians"]}
        assert parties == expected


def test_protected_childs_parties_carry_no_names(org, api_post):
    """A protected child's parties keep the numbers (conflict of interest) but no names."""
    run(api_post)
    parties = CaseParty.objects.filter(case__parties__personnummer=JUNI_ABERG).distinct()
    assert parties.count() == 2
    assert set(parties.values_list("name", flat=True)) == {""}
    case = parties.first().case
    assert case.data["protected"] is True


def test_corrected_source_is_a_conflict_not_an_overwrite(org, api_post, settings, tmp_path):
    """After the register changed, a re-run does not overwrite the case: it reports a conflict."""
    run(api_post)
    case = Case.objects.get(
        process="skolplikt", parties__personnummer=BO_LIND, parties__role="child"
    )

    def rename(register):
        next(c for c in register["children"] if c["personnummer"] == BO_LIND)["name"] = (
            "Bo Lindqvist"
        )

    settings.SKOLPLIKT_SOURCE_DIR = str(source_with(tmp_path, edit=rename))
    response = run(api_post)
    assert response.status_code == 200
    assert response.json()["conflicts"] == [case.external_ref]
    case.refresh_from_db()
    assert case.payload["finding"]["name"] == "Bo Lind"


def test_unreadable_source_is_502_and_opens_nothing(org, api_post, settings, tmp_path):
    """A missing register file: 502 naming the error code; no case is opened."""
    settings.SKOLPLIKT_SOURCE_DIR = str(tmp_path)
    response = run(api_post)
    assert response.status_code == 502
    assert "POPULATION_FILE_MISSING" in response.json()["errors"]["source"][0]
    assert not Case.objects.filter(process="skolplikt").exists()


def test_holiday_month_opens_nothing(org, api_post):
    """July is not checked (no scheduled time): 200, nothing flagged, nothing opened."""
    response = run(api_post, "2026-07")
    assert response.status_code == 200
    assert response.json()["checked"] is False and response.json()["opened"] == []


def test_scan_over_ss12000_http(org, api_post, settings):
    """With SKOLPLIKT_SS12000_URL the run reads SS 12000 over HTTP and opens the same cases."""
    from .robot_helpers import DEMO
    from .ss12000_server import Ss12000TestServer

    with Ss12000TestServer(DEMO / "ss12000", token="t0k") as server:
        settings.SKOLPLIKT_SS12000_URL = server.url
        settings.SKOLPLIKT_SS12000_TOKEN = "t0k"
        response = run(api_post)
    assert response.status_code == 201, response.content
    assert len(response.json()["opened"]) == FLAGGED_NOVEMBER


@pytest.mark.parametrize(
    ("today", "month"),
    [("2026-12-03", "2026-11"), ("2027-01-03", "2026-12"), ("2026-03-31", "2026-02")],
)
def test_scheduled_run_scans_the_month_before(today, month):
    """The parameterless (scheduled) run scans the month before the day it runs."""
    from datetime import date

    assert month_before(date.fromisoformat(today)) == month


def test_source_from_the_environment_when_no_setting(org, api_post, monkeypatch, tmp_path):
    """Without a Django setting the runner's environment names the source directory."""
    monkeypatch.setenv("SKOLPLIKT_SOURCE_DIR", str(source_with(tmp_path, children=[BO_LIND])))
    response = run(api_post)
    assert response.status_code == 201
    assert response.json()["flagged"] == 1
