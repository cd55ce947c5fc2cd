"""The drafted letters: an injunction and a closing decision, one copy per guardian.

Not wired to a case yet (phase 2); rendered here with the context the templates document,
built from a real scan of the demo data, and read back from a real PDF.
"""

import io
from datetime import datetime
from pathlib import Path

import pypdf
import pytest
from django.template.loader import render_to_string

from approvals.printing import html_to_pdf
from flows.skolplikt.connectors.population import FilePopulationRegister
from flows.skolplikt.connectors.ss12000 import FileSs12000Source
from flows.skolplikt.report import absence_report_data
from flows.skolplikt.scan import scan

DEMO = Path(__file__).resolve().parents[3] / "data" / "skolplikt"


@pytest.fixture(scope="module")
def demo_scan():
    return scan(
        month="2026-11",
        register=FilePopulationRegister(DEMO),
        ss12000=FileSs12000Source(DEMO / "ss12000"),
    )


def _context(flagged, result, addressee, **extra):
    guardians = [g.model_dump() for g in flagged.guardians]
    return {
        "case": {
            "external_ref": "BSN-2026-0042",
            "unit": {"committee": "Barn- och skolnämnden", "name": "Elevhälsan"},
        },
        "decision": {
            "signed_at": datetime(2026, 12, 10, 10, 0),
            "signer_name": "Sara Handläggare",
            "signer_title": "Skolpliktshandläggare",
            "motivation": "",
            "delegation": {"reference": "4.2"},
            "outcome": extra.pop("outcome", "injunction"),
        },
        "addressee": addressee,
        "letter_decision": None,
        "guardians": guardians,
        "child": {
            "name": flagged.name,
            "personnummer": flagged.personnummer,
            "protected": flagged.protected,
        },
        "report": absence_report_data(flagged, result=result),
        **extra,
    }


def _child(result, prefix):
    return next(c for c in result.flagged if c.personnummer.startswith(prefix))


def test_injunction_goes_to_each_guardian_with_vite_and_appeal(demo_scan):
    """Each guardian's copy names that guardian, all guardians, the figures and how to appeal."""
    bo = _child(demo_scan, "20140521")
    assert len(bo.guardians) == 2
    for guardian in bo.guardians:
        addressee = {**guardian.model_dump(), "vite": {"amount": 500, "kind": "löpande"}}
        html = render_to_string(
            "skolplikt/injunction.html",
            _context(
                bo,
                demo_scan,
                addressee,
                injunction={"obligations": [], "from_date": None, "vite": None, "immediate": True},
            ),
        )
        assert f"<strong>Till:</strong> {guardian.name}" in html
        assert "Britt Lind, Bengt Lind" in html
        assert "7 kap. 23 § skollagen" in html
        assert "löpande vite om 500" in html
        assert "förvaltningsrätten" in html and "tre veckor" in html
        assert "Exempelgatan 2" in html
        assert "2026-W45" in html and ">200<" in html  # 40 minutes × 5 days unexcused


def test_protected_child_letter_prints_no_address(demo_scan):
    """For a protected child the letter goes through Skatteverket's förmedling, no address."""
    juni = _child(demo_scan, "20110223")
    guardian = juni.guardians[0].model_dump()
    html = render_to_string(
        "skolplikt/injunction.html",
        _context(
            juni,
            demo_scan,
            guardian,
            injunction={
                "obligations": ["se till att barnet kommer till skolan varje dag"],
                "vite": None,
            },
        ),
    )
    assert "Skatteverkets förmedling" in html
    assert "Exempelgatan" not in html
    assert "se till att barnet kommer till skolan varje dag" in html
    assert "vite om" not in html


def test_closing_decision_has_reason_and_no_appeal(demo_scan):
    """The closing letter carries the caseworker's reason and no appeal instructions."""
    cleo = _child(demo_scan, "20130902")
    html = render_to_string(
        "skolplikt/closing.html",
        _context(
            cleo,
            demo_scan,
            cleo.guardians[0].model_dump(),
            outcome="guardian_talk",
            closing={
                "reason": "Frånvaron berodde på en tandläkarbehandling som nu är avslutad.",
                "talk_date": datetime(2026, 12, 8),
            },
        ),
    )
    assert "avslutar utredningen" in html
    assert "tandläkarbehandling" in html
    assert "samtal med dig den 8 december 2026" in html
    assert "Hur du överklagar" not in html


def test_injunction_pdf_reads_back(demo_scan):
    """The injunction renders to a real PDF whose text names the law and the appeal court."""
    bo = _child(demo_scan, "20140521")
    html = render_to_string(
        "skolplikt/injunction.html",
        _context(
            bo,
            demo_scan,
            bo.guardians[0].model_dump(),
            injunction={"vite": {"amount": 1000, "kind": "engångs"}},
        ),
    )
    text = " ".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(html_to_pdf(html))).pages
    )
    assert "Föreläggande att se till att barnet fullgör sin skolplikt" in text
    assert "förvaltningsrätten" in text
    assert "Britt Lind" in text
