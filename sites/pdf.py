"""PDFs printed with WeasyPrint: the information sheet of a host site (a recruitment support)
and the generic `render_pdf` other apps use (indemnity statements)."""

from __future__ import annotations

import hashlib
from typing import Any

import weasyprint
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from sites.models import HostSite
from sites.selectors import sheet_context, with_sheet_details

# The PDF is rendered on the server: it must never reach out to the network (no CDN fonts, no
# remote images). Everything it needs is inline; only local files and data: URLs may be read.
LOCAL_PROTOCOLS = frozenset({"file", "data"})


# A sheet's PDF is printed once per content: stored in the shared cache (Redis in production)
# under the hash of the HTML it prints, which is also its ETag. A new published version (or any
# change the sheet shows) is new HTML, so a new key: the old PDF is never served again and
# expires. Rendering the HTML costs a few queries; printing it (WeasyPrint) ~0.5 s.
PDF_CACHE_SECONDS = 30 * 24 * 3600


def sheet_html(site: HostSite) -> str:
    """The sheet as the HTML the PDF prints, in French (fetched again with all it shows)."""
    site = with_sheet_details(HostSite.objects.filter(pk=site.pk)).get()
    with translation.override("fr"):
        return render_to_string("sites/pdf/sheet.html", {**sheet_context(site), "pdf": True})


def sheet_etag(html: str) -> str:
    return '"' + hashlib.sha256(html.encode()).hexdigest()[:40] + '"'


def render_sheet_pdf(site: HostSite, html: str | None = None) -> bytes:
    """The site's information sheet as an A4 PDF, in French, whatever the caller's language:
    printed once per content (see above). The caller authorizes."""
    html = sheet_html(site) if html is None else html
    key = f"sheet-pdf:{site.pk}:{sheet_etag(html).strip(chr(34))}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = print_pdf(html)
        cache.set(key, pdf, PDF_CACHE_SECONDS)
    return pdf


def not_modified(request, etag: str) -> bool:
    """The caller has this very version (If-None-Match): answer 304."""
    return etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}


def with_etag(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"  # revalidate each time: 304 if unchanged
    return response


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render `template` in French and print it with WeasyPrint, reading nothing remote."""
    with translation.override("fr"):
        html = render_to_string(template, context)
    return print_pdf(html)


def print_pdf(html: str) -> bytes:
    """Print `html` with WeasyPrint, reading nothing remote."""
    # A fetcher per document: WeasyPrint's fetcher keeps per-request state, not thread-safe.
    fetcher = weasyprint.URLFetcher(allowed_protocols=LOCAL_PROTOCOLS, fail_on_errors=True)
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher)
    return document.write_pdf()
