"""PDFs printed with WeasyPrint: the information sheet of a host site (a recruitment support)
and the generic `render_pdf` other apps use (indemnity statements)."""

from __future__ import annotations

from typing import Any

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from sites.models import HostSite
from sites.selectors import sheet_context, with_sheet_details

# The PDF is rendered on the server: it must never reach out to the network (no CDN fonts, no
# remote images). Everything it needs is inline; only local files and data: URLs may be read.
LOCAL_PROTOCOLS = frozenset({"file", "data"})


def render_sheet_pdf(site: HostSite) -> bytes:
    """The site's information sheet as an A4 PDF, in French, whatever the caller's language.

    The caller authorizes; this fetches the site again with everything the sheet shows.
    """
    site = with_sheet_details(HostSite.objects.filter(pk=site.pk)).get()
    return render_pdf("sites/pdf/sheet.html", {**sheet_context(site), "pdf": True})


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render `template` in French and print it with WeasyPrint, reading nothing remote."""
    with translation.override("fr"):
        html = render_to_string(template, context)
    # A fetcher per document: WeasyPrint's fetcher keeps per-request state, not thread-safe.
    fetcher = weasyprint.URLFetcher(allowed_protocols=LOCAL_PROTOCOLS, fail_on_errors=True)
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher)
    return document.write_pdf()
