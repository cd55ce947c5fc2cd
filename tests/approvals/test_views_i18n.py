"""Swedish by default: every message translated, amounts and dates in Swedish format."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from approvals import rules
from approvals.services import assignment

NBSP = "\xa0"
PO = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def _render(source: str, **context) -> str:
    return Template("{% load casework %}" + source).render(Context(context))


def test_swedish_is_the_default_language():
    """Pages are Swedish unless the user picks English."""
    assert settings.LANGUAGE_CODE == "sv"
    assert [code for code, _ in settings.LANGUAGES] == ["sv", "en"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("sv", f"12{NBSP}345{NBSP}kr"), ("en", f"12,345{NBSP}kr")],
)
def test_amounts_in_the_pages_language(language, expected):
    """12345 kronor reads "12 345 kr" in Swedish (no-break spaces), "12,345 kr" in English."""
    with translation.override(language):
        assert _render("{{ v|kr }}", v=12345) == expected


def test_small_and_missing_amounts():
    """No separator below a thousand; a missing amount is a dash, never 0."""
    with translation.override("sv"):
        assert _render("{{ v|kr }}", v=850) == f"850{NBSP}kr"
        assert _render("{{ v|kr }}", v=None) == "–"


def test_dates_are_iso_in_both_languages():
    """Dates on the pages are written 2026-03-25."""
    for language in ("sv", "en"):
        with translation.override(language):
            assert _render('{{ d|date:"Y-m-d" }}', d=date(2026, 3, 25)) == "2026-03-25"


def test_personnummer_is_masked():
    """Only the date of birth part of a personnummer is shown."""
    assert _render("{{ p|masked_pnr }}", p="199107012388") == "19910701-****"


def test_every_message_has_a_swedish_translation():
    """The catalogue has no empty or fuzzy entry (makemessages, then fill in msgstr)."""
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]
    untranslated = [
        e for e in entries if re.search(r'msgstr(\[\d\])? ""\n(?!")', e + "\n") or "#, fuzzy" in e
    ]
    assert untranslated == []


REFUSALS = {**rules.MESSAGES, **assignment.MESSAGES}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_gate_and_inbox_refusals_are_translated(code):
    """Every refusal a caseworker can see reads in Swedish (the English msgid translated)."""
    message = REFUSALS[code]
    with translation.override("en"):
        english = translation.gettext(str(message))
    with translation.override("sv"):
        swedish = translation.gettext(str(message)) if isinstance(message, str) else str(message)
    assert swedish != english
