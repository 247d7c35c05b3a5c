"""HTML forms of the staff pages: they validate input; every write goes through sites.services.

Each form can take back the refusal of a service (`add_service_error`) so that an error the
service found is shown next to its field, like any other validation error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import Q
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from accounts.forms import DsfrFormMixin, ServiceError
from sites import services
from sites.catalogues import DERIVED_READINESS
from sites.models import (
    AccommodationOffer,
    HostSite,
    InfoSheet,
    KeyContact,
    SheetEquipment,
    SheetReadiness,
    Territory,
)
from sites.models.sheets import PracticeMode


class DsfrForm(DsfrFormMixin, forms.Form):
    pass


class DsfrModelForm(DsfrFormMixin, forms.ModelForm):
    pass


# --- Host sites ----------------------------------------------------------------------------

SITE_MANAGER_FIELDS = ("name", "territory", "status")


class DaysWantedMixin:
    """The site's declared need: left empty, no need is declared (0)."""

    def _optional_days_wanted(self) -> None:
        self.fields["days_wanted_per_month"].required = False

    def clean_days_wanted_per_month(self) -> int:
        value = self.cleaned_data.get("days_wanted_per_month")
        return 0 if value is None else value


class SiteIdentityForm(DaysWantedMixin, DsfrModelForm):
    """A site's identity; its name, territory and status are for its managers only."""

    class Meta:
        model = HostSite
        fields = (
            "name",
            "territory",
            "status",
            "kind",
            "parent",
            "address",
            "postal_code",
            "city",
            "phone",
            "email",
            "rooms",
            "days_wanted_per_month",
            "finess",
        )

    def __init__(self, *args: Any, user, can_manage: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._optional_days_wanted()
        site = self.instance
        if can_manage:
            self.fields["territory"].queryset = Territory.objects.managed_by(user)
        else:
            for name in SITE_MANAGER_FIELDS:
                del self.fields[name]
        # A parent site (pôle mère) is a main site of the same territory.
        self.fields["parent"].queryset = HostSite.objects.filter(
            Q(
                pk__in=HostSite.objects.visible_to(user)
                .filter(territory_id=site.territory_id, parent__isnull=True)
                .exclude(pk=site.pk)
                .values("pk")
            )
            | Q(pk=site.parent_id)
        )


class SiteCreateForm(DaysWantedMixin, DsfrModelForm):
    """Register a site. Its territory, left empty, is the one of its commune (postal code and
    city, `services.territory_for_commune`) when the manager manages it."""

    class Meta:
        model = HostSite
        # The identity fields but the status (a new site starts as a draft); the commune before
        # the territory it proposes.
        fields = (
            "name",
            "kind",
            "address",
            "postal_code",
            "city",
            "territory",
            "parent",
            "phone",
            "email",
            "rooms",
            "days_wanted_per_month",
            "finess",
        )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._optional_days_wanted()
        self.proposed: Territory | None = None
        territory = self.fields["territory"]
        territory.queryset = Territory.objects.managed_by(user).order_by("name")
        territory.required = False
        territory.help_text = _(
            "Left empty, the territory of the site's commune (from its postal code and city)."
        )
        self.fields["parent"].queryset = HostSite.objects.managed_by(user).filter(
            parent__isnull=True
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("territory") is None and "territory" not in self.errors:
            data["territory"] = self._proposal(data.get("postal_code", ""), data.get("city", ""))
        return data

    def _proposal(self, postal_code: str, city: str) -> Territory | None:
        proposed = services.territory_for_commune(postal_code, city)
        if proposed is None:
            self.add_error(
                "territory",
                _("No territory was found for this postal code and city: choose the territory."),
            )
        elif not self.fields["territory"].queryset.filter(pk=proposed.pk).exists():
            self.add_error(
                "territory",
                _(
                    "This commune is in %(territory)s, which you do not manage: choose one of "
                    "your territories."
                )
                % {"territory": proposed},
            )
        else:
            self.proposed = proposed
            return proposed
        return None


def site_create_initial(query, *, user) -> tuple[dict[str, Any], Territory | None]:
    """The registration form's first values from the query string (htmx asks again when the
    postal code or city change), and the territory proposed from the commune: preselected
    unless the manager chose another one (`proposed` names the one preselected before)."""
    initial: dict[str, Any] = {name: query.get(name, "") for name in ("postal_code", "city")}
    chosen, before = query.get("territory", ""), query.get("proposed", "")
    managed = Territory.objects.managed_by(user)
    if chosen.isdigit() and chosen != before and managed.filter(pk=chosen).exists():
        initial["territory"] = int(chosen)
        return initial, None
    proposed = services.territory_for_commune(initial["postal_code"], initial["city"])
    if proposed is None or not managed.filter(pk=proposed.pk).exists():
        return initial, None
    initial["territory"] = proposed.pk
    return initial, proposed


class SheetFilterForm(forms.Form):
    """The site list's filters. The place (`region`, `department`, `territory`, `site`) comes
    from the dashboards' links, named as they name it, and is kept by the form as hidden
    fields."""

    TO_VALIDATE = "to_validate"
    NOT_READY = "not_ready"
    PLACE_FIELDS = ("region", "department", "territory", "site")

    sheet = forms.ChoiceField(
        label=_("Information sheet"),
        required=False,
        choices=[
            ("", _("All")),
            (TO_VALIDATE, _("To validate")),
            *InfoSheet.Status.choices,
        ],
        widget=forms.Select(attrs={"class": "fr-select"}),
    )
    status = forms.ChoiceField(
        label=_("Status of the site"),
        required=False,
        choices=[("", _("All")), *HostSite.Status.choices],
        widget=forms.Select(attrs={"class": "fr-select"}),
    )
    readiness = forms.ChoiceField(
        label=_("Readiness"),
        required=False,
        choices=[("", _("All")), (NOT_READY, _("Not ready (mandatory items missing)"))],
        widget=forms.Select(attrs={"class": "fr-select"}),
    )
    region = forms.CharField(required=False, max_length=3, widget=forms.HiddenInput)
    department = forms.CharField(required=False, max_length=3, widget=forms.HiddenInput)
    territory = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    site = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def place(self) -> dict[str, object]:
        """The place filters given (valid ones only)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {name: data[name] for name in self.PLACE_FIELDS if data.get(name) not in (None, "")}


# --- Information sheet sections -------------------------------------------------------------


class PatientsForm(DsfrModelForm):
    practice_modes = forms.MultipleChoiceField(
        label=_("practice modes"),
        choices=PracticeMode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = InfoSheet
        fields = (
            "patients_profile",
            "daily_consultations",
            "practice_modes",
            "consultation_minutes",
        )

    def clean_practice_modes(self) -> list[str]:
        chosen = set(self.cleaned_data["practice_modes"])
        return [mode for mode in PracticeMode.values if mode in chosen]


class TeamForm(DsfrModelForm):
    class Meta:
        model = InfoSheet
        fields = (
            "team_description",
            "secretariat_description",
            "functioning_description",
            "protocols",
            "information_system",
        )


class PracticalForm(DsfrModelForm):
    class Meta:
        model = InfoSheet
        fields = ("remuneration", "accommodation", "transport")


class KeyContactForm(DsfrModelForm):
    class Meta:
        model = KeyContact
        fields = ("service", "name", "phone", "priority")


CONTACT_FIELDS = KeyContactForm.Meta.fields


class BaseKeyContactFormSet(forms.BaseFormSet):
    """The sheet's key contacts, replaced as a whole by `sheet_update(contacts=...)`."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this contact")

    def contacts(self) -> list[dict[str, Any]]:
        """The rows to keep, in order (blank new rows and removed rows left out)."""
        return [
            {name: row[name] for name in CONTACT_FIELDS}
            for row in self.cleaned_data
            if row and not row.get("DELETE")
        ]

    def typed_rows(self) -> list[dict[str, Any]]:
        """What was typed in each row still wanted, unvalidated (to redisplay it)."""
        rows = []
        for form in self.forms:
            if "DELETE" in form.fields and form["DELETE"].value():
                continue
            row = {name: form[name].value() for name in CONTACT_FIELDS}
            if any(row.values()):
                rows.append(row)
        return rows

    def add_service_error(self, exc: ServiceError) -> None:
        messages = [exc.message] if isinstance(exc, DomainError) else exc.messages
        self.non_form_errors().extend(messages)


KeyContactFormSet = forms.formset_factory(
    KeyContactForm,
    formset=BaseKeyContactFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
    max_num=30,
    validate_max=True,
)


def contact_formset(
    *, contacts: Sequence[KeyContact], prefix: str, data=None
) -> BaseKeyContactFormSet:
    initial = [{name: getattr(c, name) for name in CONTACT_FIELDS} for c in contacts]
    return KeyContactFormSet(data, initial=initial, prefix=prefix)


def contact_formset_with_new_row(
    posted: BaseKeyContactFormSet, prefix: str
) -> BaseKeyContactFormSet:
    """The rows as typed, unvalidated, plus a blank one (the "Add a contact" button)."""
    return KeyContactFormSet(initial=posted.typed_rows(), prefix=prefix)


class AccommodationOfferForm(DsfrModelForm):
    # Which offer a row is (blank: a new one): nights asked keep pointing at their offer.
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = AccommodationOffer
        fields = (
            "kind",
            "offered_by",
            "address",
            "contact_name",
            "contact_phone",
            "nights_available",
        )


OFFER_FIELDS = ("id", *AccommodationOfferForm.Meta.fields)


class BaseAccommodationOfferFormSet(BaseKeyContactFormSet):
    """The site's accommodation offers, updated as a whole by
    `sites.services.accommodation_offers_update`."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        forms.BaseFormSet.add_fields(self, form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this accommodation")

    def offers(self) -> list[dict[str, Any]]:
        return [
            {name: row[name] for name in OFFER_FIELDS}
            for row in self.cleaned_data
            if row and not row.get("DELETE") and any(row.get(n) for n in OFFER_FIELDS[1:])
        ]

    def typed_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            if "DELETE" in form.fields and form["DELETE"].value():
                continue
            row = {name: form[name].value() for name in OFFER_FIELDS}
            if any(row.values()):
                rows.append(row)
        return rows


AccommodationOfferFormSet = forms.formset_factory(
    AccommodationOfferForm,
    formset=BaseAccommodationOfferFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
    max_num=20,
    validate_max=True,
)


def offer_formset(*, offers, prefix: str, data=None) -> BaseAccommodationOfferFormSet:
    initial = [{name: getattr(o, name) for name in OFFER_FIELDS} for o in offers]
    return AccommodationOfferFormSet(data, initial=initial, prefix=prefix)


def offer_formset_with_new_row(posted, prefix: str) -> BaseAccommodationOfferFormSet:
    return AccommodationOfferFormSet(initial=posted.typed_rows(), prefix=prefix)


class EquipmentForm(DsfrForm):
    """One checkbox per item of the catalogue: is it in the consultation room?"""

    def __init__(self, *args: Any, rows: Sequence[SheetEquipment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        for row in self.rows:
            self.fields[row.item.code] = forms.BooleanField(
                label=row.item.label,
                required=False,
                initial=row.available,
                help_text=_("Requested by host sites") if row.item.field_addition else "",
            )

    def equipment(self) -> dict[str, bool]:
        return {row.item.code: self.cleaned_data[row.item.code] for row in self.rows}


DERIVED_HELP = _(
    "Set by Relève from the site’s staff: done when a course nurse or a medical assistant of the "
    "site, or of its parent site, has an account. Add them to the site’s team to tick it."
)


class ReadinessForm(DsfrForm):
    """Per item of the readiness checklist: its status and a note."""

    def __init__(self, *args: Any, rows: Sequence[SheetReadiness], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        for row in self.rows:
            derived = row.item.code in DERIVED_READINESS
            # An item that follows the site's staff is shown, never set (`services`).
            self.fields[f"{row.item.code}__status"] = forms.ChoiceField(
                label=row.item.label,
                choices=SheetReadiness.Status.choices,
                initial=row.status,
                widget=forms.RadioSelect,
                disabled=derived,
                help_text=DERIVED_HELP if derived else "",
            )
            self.fields[f"{row.item.code}__note"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=SheetReadiness._meta.get_field("note").max_length,
                initial=row.note,
            )
        self.style_widgets()

    def checklist(self) -> list[tuple[SheetReadiness, BoundField, BoundField]]:
        return [
            (row, self[f"{row.item.code}__status"], self[f"{row.item.code}__note"])
            for row in self.rows
        ]

    def readiness(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            row.item.code: {
                "status": data[f"{row.item.code}__status"],
                "note": data[f"{row.item.code}__note"],
            }
            for row in self.rows
        }
