"""HTML and PDF rendering of decision material and decision letters (WeasyPrint)."""

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string

from .hashing import sha256_hex  # noqa: F401  (documents are hashed where they are rendered)

logger = logging.getLogger("robotfabrik.printing")

# Why a resource referenced from printed markup was not fetched (logged, and the
# message of the error WeasyPrint reports; the document is rendered without it).
ASSET_SCHEME_REFUSED = "asset_scheme_refused"
ASSET_OUTSIDE_STATIC = "asset_outside_static"
ASSET_NOT_FOUND = "asset_not_found"


def render_html(template: str, context: dict) -> str:
    """Render a print template. Letters and material are Swedish legal documents: they are
    rendered in Swedish whatever language the caller's page is in, so that the same input
    always gives the same text and hash."""
    from django.utils import translation

    with translation.override("sv"):
        return render_to_string(template, context)


def static_roots() -> list[Path]:
    """The folders printed documents may take files from: the project's static folders,
    the apps' static folders and the collected STATIC_ROOT. Nothing else on the disk."""
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import FileSystemStorage

    roots: list[Path] = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            if isinstance(storage, FileSystemStorage):
                roots.append(Path(storage.location))
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def static_base_url() -> str:
    """Base URL of printed markup, so that ``{% static %}`` paths resolve to something the
    fetcher recognises as the project's own static URL (never fetched over the network)."""
    return settings.SITE_URL.rstrip("/") + "/"


class AssetRefused(ValueError):
    """A printed document referenced a resource that is not one of the project's own static
    files. WeasyPrint catches it, logs it and renders the document without the resource."""

    def __init__(self, code: str, url: str):
        super().__init__(f"{code}: {url[:200]}")
        self.code = code
        self.url = url


def _static_fetcher_class():
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class StaticAssetFetcher(URLFetcher):
        """WeasyPrint's fetcher limited to the project's static files.

        WeasyPrint's default fetcher opens any URL a document names: remote http(s)
        (a request from the server to anywhere, e.g. an internal service) and any local
        file (``file:///etc/passwd`` embedded as an attachment). Print templates escape
        what they insert, but the renderer must not rely on that. Accepted:

        - ``file://`` paths that resolve (symlinks and ``..`` followed) inside a static root;
        - the static URL on the site's own origin (``SITE_URL`` + ``STATIC_URL``), read
          from the disk through the staticfiles finders, never through the network;
        - ``data:`` URLs: they carry their content inline, so nothing is fetched.

        Everything else (http(s) to any other place, ftp, other files) is refused.
        """

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                return self._file(Path(unquote(urlsplit(url).path)), url)
            if scheme in ("http", "https"):
                return self._static_url(url)
            raise self._refuse(ASSET_SCHEME_REFUSED, url)

        def _static_url(self, url: str):
            from django.contrib.staticfiles import finders

            parts = urlsplit(url)
            site = urlsplit(static_base_url())
            static_path = "/" + settings.STATIC_URL.strip("/") + "/"
            if (parts.scheme, parts.netloc) != (site.scheme, site.netloc) or not (
                parts.path.startswith(static_path)
            ):
                # Any other host, port or path would be a request from the server.
                raise self._refuse(ASSET_SCHEME_REFUSED, url)
            relative = unquote(parts.path[len(static_path) :])
            found = finders.find(relative)
            if found is None and settings.STATIC_ROOT:
                candidate = Path(settings.STATIC_ROOT) / relative
                found = str(candidate) if candidate.is_file() else None
            if found is None:
                raise self._refuse(ASSET_NOT_FOUND, url)
            return self._file(Path(found), url)

        def _file(self, path: Path, url: str):
            import mimetypes

            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise self._refuse(ASSET_NOT_FOUND, url) from None
            if not any(resolved.is_relative_to(root) for root in static_roots()):
                # A file outside the static folders: refused whether or not it exists.
                raise self._refuse(ASSET_OUTSIDE_STATIC, url)
            if not resolved.is_file():
                raise self._refuse(ASSET_NOT_FOUND, url)
            content_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                resolved.as_uri(),
                body=resolved.read_bytes(),
                headers={"Content-Type": content_type},
            )

        @staticmethod
        def _refuse(code: str, url: str) -> AssetRefused:
            logger.warning("printing: refused resource (%s): %s", code, url[:200])
            return AssetRefused(code, url)

    return StaticAssetFetcher


def static_asset_fetcher():
    """A fresh fetcher that serves only the project's own static files (see the class)."""
    return _static_fetcher_class()(timeout=5, allow_redirects=False)


# Archival and accessible at once: PDF/A-3 level A is tagged (a structure tree, the
# document language and title from the HTML's lang and <title>) and self-contained
# (fonts embedded, an sRGB output intent), as documents kept for years must be.
PDF_VARIANT = "pdf/a-3a"


def html_to_pdf(html: str) -> bytes:
    """Render HTML to a tagged PDF/A with a fetcher that takes only the project's static
    files. Imported lazily: WeasyPrint loads Pango on import."""
    from weasyprint import HTML

    return HTML(
        string=html, base_url=static_base_url(), url_fetcher=static_asset_fetcher()
    ).write_pdf(pdf_variant=PDF_VARIANT)


def pdf_text(pdf: bytes) -> str:
    """The text a reader finds in a PDF (used by tests and the auditor export)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
