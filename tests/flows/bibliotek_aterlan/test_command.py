"""``manage.py library_renewals``: against the bundled simulator and against one started here.

These tests have no database access: pytest-django would fail any query, which is how
"writes nothing to the database" is checked.
"""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from flows.bibliotek_aterlan.sip2 import codec

from .conftest import TODAY

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "data" / "bibliotek_aterlan" / "loans_export_example.csv"
)
EXPECTED = {
    "3900000000097": ("renewed", None),  # overdue since yesterday, still renewable
    "3900000000042": ("renewed", None),  # due today
    "3900000000011": ("renewed", None),
    "3900000000066": ("exception", "not_renewable"),
    "3900000000028": ("exception", "reserved"),
    "3900000000059": ("renewed", None),
    "3900000000073": ("exception", "patron_blocked"),
    "3900000000035": ("exception", "limit_reached"),
    "3900000000103": ("renewed", None),  # the borrower's own hold does not block
}


def run(*args):
    out = io.StringIO()
    call_command("library_renewals", *args, stdout=out)
    return out.getvalue()


def external(simulator):
    account = simulator.data.terminal_accounts[0]
    return [
        "--host",
        simulator.host,
        "--port",
        str(simulator.port),
        "--institution",
        simulator.data.institution,
        "--login-user",
        account.user,
        "--login-password",
        account.password,
    ]


def test_json_with_bundled_simulator():
    """Without --host the bundled simulator runs; each due loan is renewed or an exception."""
    data = json.loads(run("--due-within", "3", "--json", "--today", TODAY.isoformat()))
    got = {x["item_id"]: (x["status"], x["reason"]) for x in data["loans"]}
    assert got == EXPECTED
    assert data["counts"]["renewed"] == 5 and data["counts"]["exception"] == 4
    renewed = next(x for x in data["loans"] if x["item_id"] == "3900000000011")
    assert renewed["new_due_date"] == "2026-12-30"
    assert data["library"]["online"] is True
    assert "Astrid" not in json.dumps(data)  # no names in the run's JSON


def test_text_output():
    out = run("--due-within", "3", "--today", TODAY.isoformat())
    assert "3900000000011  due 2026-12-02  renewed, new due date 2026-12-30  Kallocain" in out
    assert "exception: reserved (Reserverad av annan låntagare.)" in out
    assert out.strip().endswith("reason_reserved 1")


def test_notices_are_printed_not_sent(mailoutbox):
    out = run("--due-within", "3", "--today", TODAY.isoformat(), "--notices")
    assert "Subject: Några av dina lån har lånats om" in out
    assert mailoutbox == []


def test_export_file_against_a_server(simulator):
    """--export with --host: the loans come from the file, the renewals from the server."""
    data = json.loads(
        run(*external(simulator), "--export", str(EXAMPLE), "--json", "--today", TODAY.isoformat())
    )
    assert {x["item_id"]: (x["status"], x["reason"]) for x in data["loans"]} == EXPECTED
    assert sorted(simulator.renewed) == sorted(k for k, v in EXPECTED.items() if v[0] == "renewed")


def test_dry_run_sends_no_renew(simulator):
    """--dry-run reads (63, 17) but sends no Renew 29; no loan changes."""
    before = {k: (v.due_date, v.renewals) for k, v in simulator.library.loans.items()}
    data = json.loads(
        run(
            *external(simulator),
            "--export",
            str(EXAMPLE),
            "--dry-run",
            "--json",
            "--today",
            TODAY.isoformat(),
        )
    )
    codes = {code for code, _ in simulator.received}
    assert codec.RENEW not in codes and codec.ITEM_INFORMATION in codes
    assert {k: (v.due_date, v.renewals) for k, v in simulator.library.loans.items()} == before
    forecast = {x["item_id"]: x["status"] for x in data["loans"]}
    assert forecast["3900000000011"] == "would_renew"
    assert forecast["3900000000028"] == "exception"


def test_patrons_read_over_sip2(simulator):
    """--patron: loans come from Patron Information 63/64 and Item Information 17/18."""
    data = json.loads(
        run(*external(simulator), "--patron", "2600100001", "--json", "--today", TODAY.isoformat())
    )
    got = {x["item_id"]: (x["status"], x["reason"]) for x in data["loans"]}
    assert got == {"3900000000011": ("renewed", None), "3900000000028": ("exception", "reserved")}


def test_bad_export_exits_2(tmp_path):
    bad = tmp_path / "loans.csv"
    bad.write_text("patron_id,item_id\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Loans export: export columns: missing") as info:
        run("--export", str(bad))
    assert info.value.returncode == 2


def test_missing_export_exits_2(tmp_path):
    with pytest.raises(CommandError, match="no such file") as info:
        run("--export", str(tmp_path / "none.csv"))
    assert info.value.returncode == 2


def test_real_server_needs_credentials_and_a_source(simulator):
    with pytest.raises(CommandError, match="--login-user") as info:
        run("--host", simulator.host, "--port", str(simulator.port))
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="--export FILE or --patron") as info:
        run(*external(simulator))
    assert info.value.returncode == 2


def test_host_without_port_exits_2():
    with pytest.raises(CommandError, match="together") as info:
        run("--host", "127.0.0.1")
    assert info.value.returncode == 2


def test_unreachable_server_is_a_clear_error(simulator):
    args = external(simulator)
    simulator.stop()
    with pytest.raises(CommandError, match="sip2_connection_failed"):
        run(*args, "--export", str(EXAMPLE), "--timeout", "0.5")
