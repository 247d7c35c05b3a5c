"""The site page: its information sheet edited section by section, and its workflow.

With htmx, "Edit" swaps a section's form in and saving swaps the read-only section back;
without JavaScript the same URLs answer full pages (`?edit=<section>` opens a form, a saved form
redirects back). Every write goes through `sites.services`; which site is
`sites.access`' (404), who may do what `sites.rules`' (403).
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
from django.db import models
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from accounts.roles import FOLLOW_UP_ROLES
from sites import forms, services
from sites.access import get_site_for
from sites.models import (
    HostSite,
    InfoSheet,
    Membership,
    SheetEquipment,
    SheetReadiness,
)
from sites.revisions import sheet_changes
from sites.selectors import display_value

# --- Site page ------------------------------------------------------------------------------


@dataclass
class SitePage:
    """A site and its sheet as its page shows them, with what the user may do there."""

    user: Any
    site: HostSite
    sheet: InfoSheet

    @cached_property
    def can_edit(self) -> bool:
        return allowed(self.user, "sites.edit_sheet", self.site)

    @cached_property
    def can_submit(self) -> bool:
        return allowed(self.user, "sites.submit_sheet", self.site)

    @cached_property
    def can_publish(self) -> bool:
        return allowed(self.user, "sites.publish_sheet", self.site)

    @cached_property
    def can_manage(self) -> bool:
        return allowed(self.user, "sites.manage_site", self.site)

    @cached_property
    def has_course_nurse(self) -> bool:
        """Results go to the site's course nurse or medical assistant (or its pôle mère's);
        without one, to the territory manager."""
        return Membership.objects.filter(
            site_id__in=self.site.team_site_ids(),
            role__in=FOLLOW_UP_ROLES,
            user__is_active=True,
        ).exists()

    @cached_property
    def mandatory(self) -> list[SheetReadiness]:
        return [row for row in self.sheet.readiness.all() if row.item.mandatory]

    @cached_property
    def missing(self) -> list[SheetReadiness]:
        return self.sheet.missing_mandatory()

    @property
    def mandatory_ok(self) -> int:
        return len(self.mandatory) - len(self.missing)

    @cached_property
    def missing_sections(self) -> list[MissingSection]:
        """The sections with an empty field (what keeps the sheet from being submitted or
        published: `services.sheet_missing_fields`), each with what is empty and the link that
        opens its form."""
        missing = services.sheet_missing_fields(self.sheet)
        shown = []
        for section in SECTIONS.values():
            names = section.fields or ((section.slug,) if section.slug == "contacts" else ())
            empty = [name for name in missing if name in names]
            if empty:
                shown.append(
                    MissingSection(
                        title=str(section.title),
                        fields=[services.sheet_field_label(name) for name in empty],
                        url=_section_url(self.site, section, edit=self.can_edit),
                    )
                )
        return shown


@dataclass(frozen=True)
class MissingSection:
    title: str
    fields: list[str]
    url: str


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


def _offers_form(page: SitePage, data, prefix: str) -> forms.BaseAccommodationOfferFormSet:
    return forms.offer_formset(
        offers=page.site.accommodation_offers.all(), data=data, prefix=prefix
    )


def _save_offers(page: SitePage, formset) -> None:
    services.accommodation_offers_update(site=page.site, by=page.user, offers=formset.offers())


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
        Section(
            "accommodation",
            _("Accommodation offered by the commune or EPCI"),
            "offers",
            _offers_form,
            _save_offers,
            add_row=forms.offer_formset_with_new_row,
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
    perm: str,
    action: Callable[..., InfoSheet],
    done: str,
) -> HttpResponse:
    site = get_site_for(request.user, pk, write=True)
    require(request.user, perm, site)
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
    site = get_site_for(request.user, pk, write=True)
    revision = InfoSheet.objects.filter(site=site, status=InfoSheet.Status.PUBLISHED).exists()
    return _transition(
        request,
        pk,
        perm="sites.submit_sheet",
        action=services.sheet_submit,
        done=gettext(
            "Your changes were sent for validation; the public page keeps the validated "
            "version meanwhile."
        )
        if revision
        else gettext("The sheet was sent for validation."),
    )


@login_required
@require_POST
def site_sheet_publish(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_site_for(request.user, pk, write=True)
    revision = InfoSheet.objects.filter(site=site, status=InfoSheet.Status.PUBLISHED).exists()
    return _transition(
        request,
        pk,
        perm="sites.publish_sheet",
        action=services.sheet_publish,
        done=gettext("The changes are validated: the public page shows them.")
        if revision
        else gettext("The sheet is validated and published."),
    )


@login_required
@require_POST
def site_sheet_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the sheet (or its submitted changes) back to the site, with the manager's comment;
    a refused comment shows again on the page it was typed in."""
    site = get_site_for(request.user, pk, write=True)
    require(request.user, "sites.publish_sheet", site)
    comment = request.POST.get("comment", "")
    try:
        services.sheet_return_to_draft(
            sheet=services.ensure_sheet(site), by=request.user, comment=comment
        )
    except ValidationError as exc:
        return _render_revision(
            request, _load_page(request, pk), comment=comment, errors=exc.message_dict
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("The sheet was sent back to the site."))
    return redirect("site_detail", pk=site.pk)


# --- The changes waiting for validation -----------------------------------------------------


@login_required
def site_revision(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed since the validated version, field by field and row by row: where the
    manager validates the changes or sends them back with a comment, and where the staff
    review what they are about to submit. Whoever reads the site page reads it."""
    return _render_revision(request, _load_page(request, pk))


def _render_revision(
    request: HttpRequest, page: SitePage, *, comment: str = "", errors=None
) -> HttpResponse:
    context = {
        "page": page,
        "changes": sheet_changes(page.sheet),
        "comment": comment,
        "comment_errors": (errors or {}).get("comment", []),
    }
    return render(request, "sites/staff/site_revision.html", context)
