"""Letters and material are tagged, archival PDFs in Swedish with a title (issue 9, point 9).

What is read back here: the PDF/A identification in the XMP metadata (part 3,
conformance A), the structure tree (tagged PDF), the document language and the title.
What no validator on this machine could check: full PDF/A-3a and PDF/UA conformance
(veraPDF is not available), e.g. the correctness of every tag's role and reading order.
"""

import io

import pikepdf
import pytest

from approvals.printing import html_to_pdf

HTML = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Beslut 123</title>
</head><body><h1>Beslut</h1><p>Du beviljas ekonomiskt bistånd med 4 285 kr.</p></body></html>"""


@pytest.fixture(scope="module")
def pdf():
    return pikepdf.open(io.BytesIO(html_to_pdf(HTML)))


def test_pdf_is_identified_as_pdf_a_3a(pdf):
    meta = pdf.open_metadata()
    assert meta.get("pdfaid:part") == "3"
    assert meta.get("pdfaid:conformance") == "A"


def test_pdf_is_tagged_with_a_structure_tree(pdf):
    root = pdf.Root
    assert "/StructTreeRoot" in root
    assert root.MarkInfo.Marked is True
    assert root.StructTreeRoot.get("/K") is not None


def test_pdf_language_and_title(pdf):
    assert str(pdf.Root.Lang) == "sv"
    assert pdf.open_metadata().get("dc:title") == "Beslut 123"


def test_pdf_embeds_its_fonts(pdf):
    fonts = [font for page in pdf.pages for font in (page.Resources.get("/Font") or {}).values()]
    assert fonts
    for font in fonts:
        descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = descendant.FontDescriptor
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
