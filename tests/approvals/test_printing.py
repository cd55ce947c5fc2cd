"""The PDF renderer fetches only the project's own static files (issue 10, point 9)."""

import http.server
import io
import threading

import pytest
from pypdf import PdfReader

from approvals.printing import html_to_pdf, pdf_text
from municipality.runtime import free_port


@pytest.fixture
def listening_server():
    """A real HTTP server on a free local port that records every request it gets."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.path)
            body = b"h1::after { content: 'FETCHED-REMOTELY'; }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def attachments(pdf: bytes) -> dict:
    return PdfReader(io.BytesIO(pdf)).attachments


def test_remote_urls_are_never_requested(listening_server):
    """A stylesheet, image or attachment on any http(s) URL is not fetched: the server
    the markup points to receives no request and the PDF has none of its content."""
    port, seen = listening_server
    html = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"></head>'
        f'<body><h1>Beslut</h1><img src="http://127.0.0.1:{port}/logo.png">'
        f'<link rel="attachment" href="http://127.0.0.1:{port}/secret.txt"></body></html>'
    )
    pdf = html_to_pdf(html)
    assert seen == []
    assert "FETCHED-REMOTELY" not in pdf_text(pdf)
    assert attachments(pdf) == {}


def test_local_files_outside_static_are_not_embedded():
    """`file:///etc/passwd` (and a `..` path out of the static folder) is neither read
    into the PDF as an attachment nor as an image."""
    from django.conf import settings

    escape = f"file://{settings.BASE_DIR / 'static'}/../../../../../../etc/passwd"
    html = (
        '<html><body><p>Beslut</p><img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f'<link rel="attachment" href="{escape}"></body></html>'
    )
    pdf = html_to_pdf(html)
    assert attachments(pdf) == {}
    assert "root:" not in pdf_text(pdf)


def test_project_static_asset_loads_by_static_url_and_by_path(settings, tmp_path):
    """A stylesheet among the project's static files is applied, whether named by the
    static URL (what `{% static %}` writes) or by its file path."""
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "print.css").write_text("h1::after { content: ' STATIC-CSS-APPLIED'; }")
    (static / "css" / "path.css").write_text("h2::after { content: ' PATH-CSS-APPLIED'; }")
    settings.STATICFILES_DIRS = [static]
    html = (
        '<html><head><link rel="stylesheet" href="/static/css/print.css">'
        f'<link rel="stylesheet" href="{(static / "css" / "path.css").as_uri()}"></head>'
        "<body><h1>Beslut</h1><h2>Motivering</h2></body></html>"
    )
    text = pdf_text(html_to_pdf(html))
    assert "STATIC-CSS-APPLIED" in text
    assert "PATH-CSS-APPLIED" in text


def test_fetcher_serves_the_real_app_stylesheet_and_refuses_the_rest():
    """The fetcher returns the bytes of the project's own `css/app.css`; another host,
    another scheme or a file outside the static folders is refused with a named code."""
    from django.conf import settings

    from approvals.printing import (
        ASSET_OUTSIDE_STATIC,
        ASSET_SCHEME_REFUSED,
        AssetRefused,
        static_asset_fetcher,
        static_base_url,
    )

    fetcher = static_asset_fetcher()
    response = fetcher.fetch(static_base_url() + "static/css/app.css")
    assert response.read() == (settings.BASE_DIR / "static" / "css" / "app.css").read_bytes()
    response.close()
    for url, code in [
        ("http://169.254.169.254/latest/meta-data/", ASSET_SCHEME_REFUSED),
        ("https://example.org/static/css/app.css", ASSET_SCHEME_REFUSED),
        ("ftp://127.0.0.1/x", ASSET_SCHEME_REFUSED),
        ("file:///etc/passwd", ASSET_OUTSIDE_STATIC),
    ]:
        with pytest.raises(AssetRefused) as refused:
            fetcher.fetch(url)
        assert refused.value.code == code, url
