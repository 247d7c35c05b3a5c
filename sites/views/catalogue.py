"""The public catalogue of host sites (no login): /lieux/, a site's sheet, and its PDF.

Anyone reads what `HostSite.objects.public()` holds; a signed-in user may also preview the
sites of its scope before they are published (`visible_to`). Anything else answers 404.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from sites.access import get_site_for
from sites.models import Department, HostSite, Territory
from sites.models.places import HostSiteQuerySet
from sites.pdf import not_modified, render_sheet_pdf, sheet_etag, sheet_html, with_etag
from sites.revisions import show_published
from sites.selectors import sheet_context, with_sheet_details

PAGE_SIZE = 20

Choices = list[tuple[Any, Any]]


class CatalogueFilterForm(forms.Form):
    """Region, department and territory, offered only where public sites exist."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    territory = forms.TypedChoiceField(
        label=_("Territory"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, territories: list[Territory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions: dict[str, str] = {}
        departments: dict[str, str] = {}  # code -> "21 – Côte-d’Or"
        territories_of: dict[Department, Choices] = {}
        for territory in territories:
            department = territory.department
            regions[department.region.code] = str(department.region)
            departments[department.code] = department.label
            territories_of.setdefault(department, []).append((territory.pk, territory.name))
        # Departments by number (a region has its own select); territories grouped by
        # department as <optgroup>s: a long list stays easy to scan, with no script.
        self.fields["region"].choices = [
            ("", _("All regions")),
            *sorted(regions.items(), key=lambda choice: choice[1]),
        ]
        self.fields["department"].choices = [
            ("", _("All departments")),
            *sorted(departments.items(), key=lambda choice: Department.sort_key(choice[0])),
        ]
        self.fields["territory"].choices = [
            ("", _("All territories")),
            *(
                (department.label, choices)
                for department, choices in sorted(
                    territories_of.items(), key=lambda group: Department.sort_key(group[0].code)
                )
            ),
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "fr-select"

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}-error"}
                )

    def filter(self, sites: HostSiteQuerySet) -> HostSiteQuerySet:
        """`sites` narrowed by every valid filter (an invalid one is reported, not applied)."""
        if not self.is_bound:
            return sites
        self.is_valid()
        values = self.cleaned_data
        if values.get("region"):
            sites = sites.filter(territory__department__region_id=values["region"])
        if values.get("department"):
            sites = sites.filter(territory__department_id=values["department"])
        if values.get("territory"):
            sites = sites.filter(territory_id=values["territory"])
        return sites


def _offered_territories() -> list[Territory]:
    """Territories with at least one public site, with their department and region (1 query)."""
    return list(
        Territory.objects.filter(pk__in=HostSite.objects.public().values("territory"))
        .select_related("department__region")
        .order_by("name")
    )


def _visible_site(request: HttpRequest, pk: int) -> HostSite:
    """The site with its whole sheet if the caller may read it: public, or in its scope."""
    sites = with_sheet_details(HostSite.objects.visible_to(request.user))
    try:
        return sites.get(pk=pk)
    except HostSite.DoesNotExist:
        raise Http404 from None


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET or None, territories=_offered_territories())
    sites = form.filter(
        HostSite.objects.public()
        .with_readiness()
        .select_related("info_sheet", "territory__department")
        .order_by("name", "pk")
    )
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    for site in page:
        version = show_published(site)  # the validated version, not the changes awaiting it
        site.card_key = card_key(site, version.counts)
    context = {"form": form, "page_obj": page, "card_seconds": CARD_SECONDS}
    return render(request, "sites/catalogue/list.html", context)


# A catalogue card is rendered once and kept in the shared cache (issue 14 § 3) under a digest
# of everything it shows: the site's own fields, its territory, its validated sheet's fields
# and readiness counts. Any change shows at once (another digest, another key); an old card
# is never served, and leaves the cache with its time.
CARD_SECONDS = 24 * 3600


def card_key(site: HostSite, counts: dict) -> str:
    sheet = site.info_sheet
    shown = (
        site.pk, site.name, site.city, site.postal_code, site.kind, site.rooms,
        site.territory.name, str(site.territory.department), sheet.practice_modes,
        sheet.consultation_minutes, sheet.accommodation, sorted(counts.items()),
    )  # fmt: skip
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def detail_context(request: HttpRequest, pk: int) -> dict:
    """What the site's public page shows (404 unless public or in the caller's scope). The page
    itself (`/lieux/<pk>/`, `public_site`) is served by the vacations app, which adds the
    upcoming days."""
    return sheet_context(_visible_site(request, pk))


@require_safe
def sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The sheet's PDF, printed once per version (stored), with an ETag (304 if unchanged)."""
    site = get_site_for(request.user, pk)  # the same rule as the page: public, or in scope
    html = sheet_html(site)
    etag = sheet_etag(html)
    if not_modified(request, etag):
        return with_etag(HttpResponseNotModified(), etag)
    response = HttpResponse(render_sheet_pdf(site, html), content_type="application/pdf")
    filename = f"fiche-{slugify(site.name) or site.pk}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return with_etag(response, etag)


urlpatterns = [
    path("lieux/", catalogue, name="catalogue"),
    path("lieux/<int:pk>/fiche.pdf", sheet_pdf, name="sheet_pdf"),
]
