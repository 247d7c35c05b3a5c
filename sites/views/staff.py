"""HTML views for site staff and managers: territories, host sites, their information sheets.

The site page edits the sheet section by section: with htmx, "Edit" swaps a section's form in
and saving swaps the read-only section back; without JavaScript the same URLs answer full pages
(`?edit=<section>` opens a form, a saved form redirects back). Every write goes through
`sites.services`; who may do what is asked of `sites.access`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, F, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.roles import MANAGER_ROLES
from sites import forms, services
from sites.access import (
    can_edit_sheet,
    can_manage_site,
    can_publish_sheet,
    can_submit_sheet,
    get_site_for,
)
from sites.models import (
    HostSite,
    InfoSheet,
    SheetEquipment,
    SheetReadiness,
    Territory,
)
from sites.selectors import display_value, history_entries, history_index

PAGE_SIZE = 25


@login_required
def territory_list(request: HttpRequest) -> HttpResponse:
    """Territories the signed-in manager pilots, with their number of host sites."""
    territories = (
        Territory.objects.managed_by(request.user)
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
    return SimpleLazyObject(lambda: user.is_superuser or user.has_role(*MANAGER_ROLES))


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
            sheet_changed=Coalesce(F("info_sheet__changed_since_publication"), Value(False)),
        )
        .order_by("territory__name", "name")
    )
    chosen = filters.cleaned_data["sheet"] if filters.is_valid() else ""
    if chosen == forms.SheetFilterForm.TO_VALIDATE:
        sites = sites.to_validate()
    elif chosen:
        sites = sites.filter(SHEET_FILTERS[chosen])
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(InfoSheet.Status.choices)
    for site in page:
        site.sheet_status_label = labels.get(site.sheet_status, site.sheet_status)
    context = {"page_obj": page, "filters": filters, "is_manager": _is_manager(request)}
    return render(request, "sites/site_list.html", context)


# --- Site page ------------------------------------------------------------------------------


@dataclass
class SitePage:
    """A site and its sheet as its page shows them, with what the user may do there."""

    user: Any
    site: HostSite
    sheet: InfoSheet

    @cached_property
    def can_edit(self) -> bool:
        return can_edit_sheet(self.user, self.site)

    @cached_property
    def can_submit(self) -> bool:
        return can_submit_sheet(self.user, self.site)

    @cached_property
    def can_publish(self) -> bool:
        return can_publish_sheet(self.user, self.site)

    @cached_property
    def can_manage(self) -> bool:
        return can_manage_site(self.user, self.site)

    @cached_property
    def mandatory(self) -> list[SheetReadiness]:
        return [row for row in self.sheet.readiness.all() if row.item.mandatory]

    @cached_property
    def missing(self) -> list[SheetReadiness]:
        return self.sheet.missing_mandatory()

    @property
    def mandatory_ok(self) -> int:
        return len(self.mandatory) - len(self.missing)


def _load_page(request: HttpRequest, pk: int) -> SitePage:
    site = get_site_for(request.user, pk, write=True)
    # Creates the sheet of a site registered without one, and rows for new catalogue items.
    services.ensure_sheet(site)
    sheet = (
        InfoSheet.objects.select_related("published_by")
        .prefetch_related(
            "contacts",
            Prefetch("equipment", queryset=SheetEquipment.objects.select_related("item")),
            Prefetch("readiness", queryset=SheetReadiness.objects.select_related("item")),
        )
        .get(site=site)
    )
    sheet.site = site
    return SitePage(user=request.user, site=site, sheet=sheet)


def _identity_form(page: SitePage, data, prefix: str) -> forms.SiteIdentityForm:
    # The form validates a copy: a refused value must not show in the rest of the page.
    return forms.SiteIdentityForm(
        data,
        instance=copy.copy(page.site),
        user=page.user,
        can_manage=page.can_manage,
        prefix=prefix,
    )


def _sheet_form(form_class: type[forms.DsfrModelForm]) -> Callable:
    def build(page: SitePage, data, prefix: str) -> forms.DsfrModelForm:
        return form_class(data, instance=copy.copy(page.sheet), prefix=prefix)

    return build


def _contacts_form(page: SitePage, data, prefix: str) -> forms.BaseKeyContactFormSet:
    return forms.contact_formset(contacts=page.sheet.contacts.all(), data=data, prefix=prefix)


def _equipment_form(page: SitePage, data, prefix: str) -> forms.EquipmentForm:
    return forms.EquipmentForm(data, rows=page.sheet.equipment.all(), prefix=prefix)


def _readiness_form(page: SitePage, data, prefix: str) -> forms.ReadinessForm:
    return forms.ReadinessForm(data, rows=page.sheet.readiness.all(), prefix=prefix)


def _save_identity(page: SitePage, form) -> None:
    services.site_update(site=page.site, by=page.user, **form.cleaned_data)


def _save_fields(page: SitePage, form) -> None:
    services.sheet_update(sheet=page.sheet, by=page.user, fields=form.cleaned_data)


def _save_contacts(page: SitePage, formset) -> None:
    services.sheet_update(sheet=page.sheet, by=page.user, contacts=formset.contacts())


def _save_equipment(page: SitePage, form) -> None:
    services.sheet_update(sheet=page.sheet, by=page.user, equipment=form.equipment())


def _save_readiness(page: SitePage, form) -> None:
    services.sheet_update(sheet=page.sheet, by=page.user, readiness=form.readiness())


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    template: str  # sites/staff/sections/<template>_view.html and _form.html
    build: Callable[[SitePage, Any, str], Any]
    save: Callable[[SitePage, Any], None]
    fields: tuple[str, ...] = ()  # shown read-only by the generic "fields" template
    on_site: bool = False  # those fields are the site's (else the sheet's)
    add_row: Callable[[Any, str], Any] | None = None


SECTIONS: dict[str, Section] = {
    section.slug: section
    for section in (
        Section(
            "identity",
            _("Identity of the site"),
            "fields",
            _identity_form,
            _save_identity,
            fields=tuple(f for f in forms.SiteIdentityForm.Meta.fields if f != "name"),
            on_site=True,
        ),
        Section(
            "patients",
            _("Patients and activity"),
            "fields",
            _sheet_form(forms.PatientsForm),
            _save_fields,
            fields=forms.PatientsForm.Meta.fields,
        ),
        Section(
            "team",
            _("Team and functioning"),
            "fields",
            _sheet_form(forms.TeamForm),
            _save_fields,
            fields=forms.TeamForm.Meta.fields,
        ),
        Section(
            "practical",
            _("Practical information"),
            "fields",
            _sheet_form(forms.PracticalForm),
            _save_fields,
            fields=forms.PracticalForm.Meta.fields,
        ),
        Section(
            "contacts",
            _("Key contacts"),
            "contacts",
            _contacts_form,
            _save_contacts,
            add_row=forms.contact_formset_with_new_row,
        ),
        Section("equipment", _("Equipment"), "equipment", _equipment_form, _save_equipment),
        Section(
            "readiness", _("Readiness checklist"), "readiness", _readiness_form, _save_readiness
        ),
    )
}


def _rows(instance: models.Model, names: Iterable[str]) -> list[tuple[str, str]]:
    rows = []
    for name in names:
        model_field = instance._meta.get_field(name)
        rows.append(
            (
                capfirst(model_field.verbose_name),
                display_value(model_field, getattr(instance, name)),
            )
        )
    return rows


@dataclass
class SectionState:
    """One section as rendered: its form when being edited, else its read-only rows."""

    section: Section
    page: SitePage
    form: Any = None
    saved: bool = False
    rows: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.section.fields and self.form is None:
            instance = self.page.site if self.section.on_site else self.page.sheet
            self.rows = _rows(instance, self.section.fields)

    @property
    def editing(self) -> bool:
        return self.form is not None

    @property
    def can_add_row(self) -> bool:
        return self.section.add_row is not None

    @property
    def slug(self) -> str:
        return self.section.slug

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def view_template(self) -> str:
        return f"sites/staff/sections/{self.section.template}_view.html"

    @property
    def form_template(self) -> str:
        return f"sites/staff/sections/{self.section.template}_form.html"


def _section_url(site: HostSite, section: Section, *, edit: bool = False) -> str:
    query = f"?edit={section.slug}" if edit else ""
    return f"{reverse('site_detail', args=[site.pk])}{query}#section-{section.slug}"


def _render_page(
    request: HttpRequest,
    page: SitePage,
    editing: Section | None = None,
    form=None,
    *,
    refused: bool = False,
) -> HttpResponse:
    sections = [
        SectionState(section, page, form if section is editing else None)
        for section in SECTIONS.values()
    ]
    context = {"page": page, "sections": sections, "refused": editing if refused else None}
    return render(request, "sites/staff/site_detail.html", context)


def _render_section(
    request: HttpRequest, page: SitePage, section: Section, form=None, *, saved: bool = False
) -> HttpResponse:
    """The section alone (an htmx swap); after a save, the status panel too (out of band)."""
    state = SectionState(section, page, form, saved=saved)
    return render(request, "sites/staff/section_response.html", {"page": page, "section": state})


def _load_section(request: HttpRequest, pk: int, slug: str) -> tuple[SitePage, Section]:
    page = _load_page(request, pk)
    section = SECTIONS.get(slug)
    if section is None:
        raise Http404
    if not page.can_edit:
        raise PermissionDenied
    return page, section


@login_required
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A site, its sheet's status and readiness, and its sheet section by section."""
    page = _load_page(request, pk)
    section = SECTIONS.get(request.GET.get("edit", ""))
    if section is not None and page.can_edit:
        return _render_page(request, page, section, section.build(page, None, section.slug))
    return _render_page(request, page)


@login_required
def site_section_edit(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """A section's form (htmx swaps it in; without htmx, the page opens it)."""
    page, spec = _load_section(request, pk, section)
    if not request.htmx:
        return redirect(_section_url(page.site, spec, edit=True))
    return _render_section(request, page, spec, spec.build(page, None, spec.slug))


@login_required
@require_http_methods(["GET", "POST"])
def site_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """GET: a section read-only ("Cancel"). POST: save it through the services."""
    page, spec = _load_section(request, pk, section)
    if request.method == "GET":
        if not request.htmx:
            return redirect(_section_url(page.site, spec))
        return _render_section(request, page, spec)

    form = spec.build(page, request.POST, spec.slug)
    if spec.add_row is not None and "add_row" in request.POST:
        form = spec.add_row(form, spec.slug)
    elif form.is_valid() and _save(spec, page, form):
        if request.htmx:
            return _render_section(request, _load_page(request, pk), spec, saved=True)
        messages.success(request, gettext("“%(section)s” saved.") % {"section": spec.title})
        return redirect(_section_url(page.site, spec))
    # Refused: the form again with its errors; 200 so that htmx swaps it in.
    if request.htmx:
        return _render_section(request, page, spec, form)
    return _render_page(request, page, spec, form, refused=form.is_bound)


def _save(section: Section, page: SitePage, form) -> bool:
    try:
        section.save(page, form)
    except (ValidationError, DomainError) as exc:
        form.add_service_error(exc)
        return False
    return True


# --- Workflow -------------------------------------------------------------------------------


def _transition(
    request: HttpRequest,
    pk: int,
    *,
    allowed: Callable[[Any, HostSite], bool],
    action: Callable[..., InfoSheet],
    done: str,
) -> HttpResponse:
    site = get_site_for(request.user, pk, write=True)
    if not allowed(request.user, site):
        raise PermissionDenied
    try:
        action(sheet=services.ensure_sheet(site), by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("site_detail", pk=site.pk)


@login_required
@require_POST
def site_sheet_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        allowed=can_submit_sheet,
        action=services.sheet_submit,
        done=gettext("The sheet was sent for validation."),
    )


@login_required
@require_POST
def site_sheet_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        allowed=can_publish_sheet,
        action=services.sheet_publish,
        done=gettext("The sheet is validated and published."),
    )


@login_required
@require_POST
def site_sheet_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        allowed=can_publish_sheet,
        action=services.sheet_return_to_draft,
        done=gettext("The sheet was sent back to the site."),
    )


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
    """Managers register a host site in one of their territories."""
    if not Territory.objects.managed_by(request.user).exists():
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = forms.SiteCreateForm(data, user=request.user)
    if form.is_valid():
        try:
            site = services.site_create(by=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            form.add_service_error(exc)
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
]
