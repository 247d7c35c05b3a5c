"""HTML views for site staff and managers: territories, the list of host sites, a site's
history, registering a site; the site page itself is in `sites.views.sheet`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from sites import forms, services
from sites.access import (
    get_site_for,
)
from sites.models import (
    Department,
    HostSite,
    InfoSheet,
    Region,
    Territory,
)
from sites.selectors import history_entries, history_index
from sites.views.sheet import (
    site_detail,
    site_revision,
    site_section,
    site_section_edit,
    site_sheet_publish,
    site_sheet_return,
    site_sheet_submit,
)

PAGE_SIZE = 25


@login_required
def territory_list(request: HttpRequest) -> HttpResponse:
    """Territories the signed-in manager pilots, with their number of host sites."""
    territories = (
        Territory.objects.piloted_by(request.user)
        .select_related("department__region", "managing_structure")
        .annotate(site_count=Count("sites"))
        .order_by("department__region__name", "name")
    )
    page = Paginator(territories, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sites/territory_list.html", {"page_obj": page})


# --- Site list ------------------------------------------------------------------------------

SHEET_FILTERS: dict[str, Q] = {
    # A site registered before sheets existed has none yet: it is a draft to fill.
    InfoSheet.Status.DRAFT: Q(info_sheet__status=InfoSheet.Status.DRAFT)
    | Q(info_sheet__isnull=True),
    InfoSheet.Status.SUBMITTED: Q(info_sheet__status=InfoSheet.Status.SUBMITTED),
    InfoSheet.Status.PUBLISHED: Q(info_sheet__status=InfoSheet.Status.PUBLISHED),
}


def _is_manager(request: HttpRequest) -> SimpleLazyObject:
    # Evaluated while the template renders, after the shell context processor has loaded the
    # user's roles: asking costs no query.
    user = request.user
    return SimpleLazyObject(lambda: allowed(user, "sites.pilot"))


@login_required
def site_list(request: HttpRequest) -> HttpResponse:
    """Host sites within the user's scope, with their sheet's status and readiness."""
    filters = forms.SheetFilterForm(request.GET)
    sites = (
        HostSite.objects.in_scope_of(request.user)
        .with_readiness()
        .select_related("territory__department")
        # In the same query as the readiness counts: the page costs the same whatever its size.
        .annotate(
            sheet_status=Coalesce(F("info_sheet__status"), Value(InfoSheet.Status.DRAFT)),
            sheet_revision=Coalesce(
                F("info_sheet__revision_status"), Value(InfoSheet.RevisionStatus.NONE)
            ),
        )
        .order_by("territory__name", "name")
    )
    chosen = filters.cleaned_data if filters.is_valid() else {}
    if chosen.get("sheet") == forms.SheetFilterForm.TO_VALIDATE:
        sites = sites.to_validate()
    elif chosen.get("sheet"):
        sites = sites.filter(SHEET_FILTERS[chosen["sheet"]])
    if chosen.get("status"):
        sites = sites.filter(status=chosen["status"])
    if chosen.get("readiness") == forms.SheetFilterForm.NOT_READY:
        sites = sites.not_ready()
    place = filters.place()
    sites = sites.in_place(**place)
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(InfoSheet.Status.choices)
    revisions = dict(InfoSheet.RevisionStatus.choices)
    for site in page:
        site.sheet_status_label = labels.get(site.sheet_status, site.sheet_status)
        site.sheet_revision_label = revisions.get(site.sheet_revision, "")
    context = {
        "page_obj": page,
        "filters": filters,
        "is_manager": _is_manager(request),
        "place_label": _place_label(place),
    }
    return render(request, "sites/site_list.html", context)


def _place_label(place: dict[str, object]) -> str:
    """What the place filter names (the narrowest), for the page to say so; one query."""
    for name, model in (
        ("site", HostSite),
        ("territory", Territory),
        ("department", Department),
        ("region", Region),
    ):
        if name in place:
            found = model.objects.filter(pk=place[name]).first()
            return str(found) if found else ""
    return ""


# --- History --------------------------------------------------------------------------------


@login_required
def site_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what on the site and its sheet, newest first, with the diff of each change."""
    site = get_site_for(request.user, pk, write=True)
    sheet = InfoSheet.objects.filter(site=site).first()
    page = Paginator(history_index(site, sheet), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"site": site, "page_obj": page, "entries": history_entries(page.object_list)}
    return render(request, "sites/staff/site_history.html", context)


# --- Registration ---------------------------------------------------------------------------


@login_required
def site_create(request: HttpRequest) -> HttpResponse:
    """Managers register a host site in one of their territories; the territory of its commune
    is proposed (preselected while typing, with htmx; used when left empty)."""
    require(request.user, "sites.register_site")
    if request.method == "POST":
        form = forms.SiteCreateForm(request.POST, user=request.user)
    else:
        initial, proposed = forms.site_create_initial(request.GET, user=request.user)
        form = forms.SiteCreateForm(initial=initial, user=request.user)
        form.proposed = proposed
    if form.is_bound and form.is_valid():
        try:
            site = services.site_create(by=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            form.add_service_error(exc)
        else:
            if form.proposed is not None:
                messages.success(
                    request,
                    gettext(
                        "The host site is registered in %(territory)s, the territory of its "
                        "commune."
                    )
                    % {"territory": site.territory},
                )
            else:
                messages.success(request, gettext("The host site is registered."))
            return redirect("site_detail", pk=site.pk)
    return render(request, "sites/staff/site_form.html", {"form": form})


urlpatterns = [
    path("territoires/", territory_list, name="territory_list"),
    path("sites/", site_list, name="site_list"),
    path("sites/nouveau/", site_create, name="site_create"),
    path("sites/<int:pk>/", site_detail, name="site_detail"),
    path("sites/<int:pk>/historique/", site_history, name="site_history"),
    path("sites/<int:pk>/fiche/<slug:section>/", site_section, name="site_section"),
    path(
        "sites/<int:pk>/fiche/<slug:section>/modifier/",
        site_section_edit,
        name="site_section_edit",
    ),
    path("sites/<int:pk>/soumettre/", site_sheet_submit, name="site_sheet_submit"),
    path("sites/<int:pk>/publier/", site_sheet_publish, name="site_sheet_publish"),
    path("sites/<int:pk>/renvoyer/", site_sheet_return, name="site_sheet_return"),
    path("sites/<int:pk>/modifications/", site_revision, name="site_revision"),
]
