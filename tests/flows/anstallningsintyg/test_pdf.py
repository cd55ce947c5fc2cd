"""The anställningsintyg PDF: PDF/A-3u, read back as text and as XMP metadata."""

import io
from datetime import date

import pikepdf
import pytest

from approvals.printing import pdf_text
from flows.anstallningsintyg.pdf import (
    CertificateContentError,
    certificate_with_verification,
    document_sha256,
    render_certificate_pdf,
)
from flows.anstallningsintyg.rules import arbetsgivarintyg_content, certificate_content
from tests.flows.anstallningsintyg.builders import EMPLOYER, employee, employment, month

ISSUED = date(2026, 12, 1)
CODE = "7K3M-Q9TX-2HBD-RW4"  # completed with its check character below
SITE = "https://intyg.exempelby.example"


def _code() -> str:
    from flows.anstallningsintyg.verification import _luhn_mod_n_check

    compact = CODE.replace("-", "")
    return compact + _luhn_mod_n_check(compact)


def _content():
    person = employee(
        employment(
            id="A",
            form="vikariat",
            position="Lärare i matematik",
            workplace="Norrskolan",
            start="2025-08-11",
            end="2026-06-14",
            extent_percent=80,
            end_reason="visstid_upphorde",
        ),
        employment(
            id="B", position="Lärare i matematik", workplace="Norrskolan", start="2026-08-10"
        ),
        employment(
            id="C",
            form="timavlonad",
            position="Vårdbiträde",
            extent_percent=None,
            start="2026-09-01",
            months=[month("2026-09", 12.5, 2225)],
        ),
        name="Oskar Nyberg",
    )
    content = certificate_content(person, employer=EMPLOYER, issued_on=ISSUED)
    return certificate_with_verification(content, code=_code(), site_url=SITE)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_certificate_pdf(_content())


def test_text_names_employer_employee_and_every_employment(pdf):
    """A reader finds the employer and org number, the person, each position, form, period, extent."""
    text = " ".join(pdf_text(pdf).split())
    assert "Anställningsintyg" in text
    assert "Exempelby kommun" in text and "212000-9994" in text
    assert "Oskar Nyberg" in text and "19910715-2382" in text
    assert "Vikariat" in text and "2025-08-11 – 2026-06-14" in text
    assert "80 % av heltid (32 timmar per vecka)" in text
    assert "Tillsvidareanställning" in text and "2026-08-10 – tills vidare" in text
    assert "Timavlönad" in text and "12,50 arbetade timmar" in text
    assert "Utfärdat 2026-12-01" in text


def test_text_carries_the_verification_code_and_address(pdf):
    """The code in groups and the address with the compact code are printed."""
    text = " ".join(pdf_text(pdf).split())
    grouped = "-".join(_code()[i : i + 4] for i in range(0, 16, 4))
    assert grouped in text
    assert f"{SITE}/verify/{_code()}/" in text


def test_pdf_a_3u_identification_in_xmp(pdf):
    """XMP says PDF/A part 3, conformance U; title, author, language and date are set."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        metadata = document.open_metadata()
        assert metadata["pdfaid:part"] == "3"
        assert metadata["pdfaid:conformance"] == "U"
        assert metadata["dc:title"] == "Anställningsintyg"
        assert metadata["dc:creator"] == ["Exempelby kommun"]
        assert metadata["xmp:CreateDate"] == "2026-12-01"
        assert str(document.Root.Lang) == "sv"
        assert "/OutputIntents" in document.Root  # sRGB, required for PDF/A
    assert pdf.startswith(b"%PDF-1.7")


def test_same_content_gives_the_same_bytes(pdf):
    """Rendering is reproducible, so the stored document hash can be recomputed."""
    again = render_certificate_pdf(_content())
    assert document_sha256(again) == document_sha256(pdf)


def test_a_certificate_without_verification_code_is_refused():
    content = _content()
    del content["verification"]
    with pytest.raises(CertificateContentError, match="verification code"):
        render_certificate_pdf(content)


def test_a_mistyped_code_cannot_be_printed():
    content = certificate_content(employee(employment()), employer=EMPLOYER, issued_on=ISSUED)
    with pytest.raises(CertificateContentError):
        certificate_with_verification(content, code=_code()[:-1] + "0", site_url=SITE)


def test_an_arbetsgivarintyg_copy_is_printed_with_its_sections():
    """The employee's copy of the arbetsgivarintyg names the employment, its end and the code."""
    content = arbetsgivarintyg_content(
        employee(employment(end="2026-06-30", end_reason="arbetsbrist", position="Kock")),
        employer=EMPLOYER,
        issued_on=ISSUED,
        include_worked_time=False,
    )
    content = certificate_with_verification(content, code=_code(), site_url=SITE)
    text = " ".join(pdf_text(render_certificate_pdf(content)).split())
    assert "Arbetsgivarintyg" in text
    assert "Kock" in text and "Uppsägning på grund av arbetsbrist" in text
    assert content["verification"]["code"] in text


def test_an_unknown_kind_is_not_printed():
    content = certificate_with_verification(
        {"kind": "tjanstgoringsbetyg", "issued_on": ISSUED}, code=_code(), site_url=SITE
    )
    with pytest.raises(CertificateContentError, match="anställningsintyg"):
        render_certificate_pdf(content)


def test_every_font_is_embedded(pdf):
    """PDF/A forbids fonts the reader must supply: each font carries its font program."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        fonts = [font for page in document.pages for font in page.Resources.Font.values()]
        assert fonts
        for font in fonts:
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).FontDescriptor
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
