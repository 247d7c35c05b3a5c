"""The information sheet of a host site as a PDF (a recruitment support), and the read that
both the PDF and the catalogue's detail page share, so that they show the same sections.
"""

from __future__ import annotations

from typing import Any

import weasyprint
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from sites.models import HostSite, SheetEquipment, SheetReadiness
from sites.models.places import HostSiteQuerySet

# The PDF is rendered on the server: it must never reach out to the network (no CDN fonts, no
# remote images). Everything it needs is inline; only local files and data: URLs may be read.
LOCAL_PROTOCOLS = frozenset({"file", "data"})


def with_sheet_details(queryset: HostSiteQuerySet) -> HostSiteQuerySet:
    """`queryset` with everything a full sheet shows, in a constant number of queries.

    Adds `is_public` and `parent_is_public` (whether the site, and its pôle mère, are in the
    public catalogue) and the readiness counts of `with_readiness()`. A site without a sheet
    yet still loads (its staff may preview it): `sheet_context` gives it `sheet=None`.
    """
    return (
        queryset.with_readiness()
        .annotate(
            is_public=Exists(HostSite.objects.public().filter(pk=OuterRef("pk"))),
            parent_is_public=Exists(HostSite.objects.public().filter(pk=OuterRef("parent"))),
        )
        .select_related("info_sheet", "territory__department__region", "parent")
        .prefetch_related(
            "info_sheet__contacts",
            Prefetch(
                "info_sheet__equipment",
                queryset=SheetEquipment.objects.select_related("item"),
            ),
            Prefetch(
                "info_sheet__readiness",
                queryset=SheetReadiness.objects.select_related("item"),
            ),
        )
    )


def sheet_context(site: HostSite) -> dict[str, Any]:
    """What the sheet templates show, from a site fetched through `with_sheet_details`."""
    sheet = getattr(site, "info_sheet", None)
    equipment = list(sheet.equipment.all()) if sheet else []
    return {
        "site": site,
        "sheet": sheet,
        "contacts": list(sheet.contacts.all()) if sheet else [],
        # The national base list first, then what host sites asked for on top of it.
        "equipment_groups": [
            {
                "title": _("Base list"),
                "rows": [row for row in equipment if not row.item.field_addition],
            },
            {
                "title": _("Additions requested by the field"),
                "rows": [row for row in equipment if row.item.field_addition],
            },
        ],
        "readiness": list(sheet.readiness.all()) if sheet else [],
    }


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
