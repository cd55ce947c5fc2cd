"""`manage.py calculate_bistand FILE.json`: the flow's calculation, printed, with nothing written."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import DEMO_APPLICATIONS, demo_application


@pytest.mark.django_db
def test_prints_calculation_with_lines_and_version(capsys, django_assert_num_queries):
    """The output has the totals, every line with its origin, and the rule-set version; no queries."""
    with django_assert_num_queries(0):
        call_command("calculate_bistand", str(DEMO_APPLICATIONS / "etj-2026-000101.json"))
    result = json.loads(capsys.readouterr().out)
    assert result["ruleset_version"] == "riksnorm-2026"
    assert {"riksnorm", "costs", "incomes", "proposed_amount", "lines"} <= set(result)
    assert result["riksnorm"] == 3940 + 1280  # single adult + household of one (2026 table)
    assert result["costs"] == 6450 + 320 + 145 + 200
    assert result["incomes"] == 2400 + 6200
    assert result["proposed_amount"] == max(0, 3940 + 1280 + 6450 + 320 + 145 + 200 - 2400 - 6200)
    assert all(line["origin"] for group in result["lines"].values() for line in group)


def test_invalid_file_is_a_clear_error(tmp_path):
    """A bad personnummer is reported as an invalid application, not a traceback."""
    application = demo_application()
    application["applicant"]["personnummer"] = "199107012389"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(application))
    with pytest.raises(CommandError, match="Invalid application"):
        call_command("calculate_bistand", str(path))


def test_missing_and_malformed_files(tmp_path):
    """A missing file and malformed JSON each get their own message."""
    with pytest.raises(CommandError, match="No such file"):
        call_command("calculate_bistand", str(tmp_path / "none.json"))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(CommandError, match="Malformed JSON"):
        call_command("calculate_bistand", str(tmp_path / "broken.json"))
