"""HTML forms of the volunteer pages: they parse and validate input; every write goes through
`volunteers.services`, whose refusals come back next to their field (`add_service_error`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q
from django.forms import BoundField
from django.forms.boundfield import BoundWidget
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import DsfrFormMixin
from sites.models import Department, Territory
from volunteers.charter import CURRENT_VERSION
from volunteers.models import Commitment, Period, Volunteer

Choices = list[tuple[Any, Any]]


# --- Territories, grouped by region --------------------------------------------------------


@dataclass(frozen=True)
class OptionGroup:
    label: str
    options: list[BoundWidget]

    @property
    def selected(self) -> int:
        return sum(1 for option in self.options if option.data["selected"])


def territories_for_choices() -> list[Territory]:
    """Every territory with its department and region, in display order (one query)."""
    return list(
        Territory.objects.select_related("department__region").order_by(
            "department__region__name", "department__code", "name"
        )
    )


def _by_region(territories: Iterable[Territory]) -> Choices:
    groups: dict[str, Choices] = {}
    for territory in territories:
        label = f"{territory.name} ({territory.department.code})"
        groups.setdefault(territory.department.region.name, []).append((territory.pk, label))
    return list(groups.items())


def _by_department(territories: Iterable[Territory]) -> Choices:
    """Territories under their department ("18 – Cher"), departments by number."""
    groups: dict[Department, Choices] = {}
    for territory in territories:
        groups.setdefault(territory.department, []).append((territory.pk, territory.name))
    ordered = sorted(groups.items(), key=lambda group: Department.sort_key(group[0].code))
    return [(department.label, choices) for department, choices in ordered]


def department_choices(departments: Iterable[Department]) -> Choices:
    """Departments by number, "21 – Côte-d’Or": a doctor knows its department's number."""
    ordered = sorted(departments, key=lambda department: Department.sort_key(department.code))
    return [(department.code, department.label) for department in ordered]


def option_groups(bound_field: BoundField) -> list[OptionGroup]:
    """A grouped checkbox field's options as (group label, its checkboxes): the widget renders
    its options in the order of the grouped choices, so they are cut back into groups."""
    options = iter(bound_field.subwidgets)
    return [
        OptionGroup(str(label), [next(options) for _choice in choices])
        for label, choices in bound_field.field.choices
    ]


class TerritoriesField(forms.ModelMultipleChoiceField):
    """Priority territories as checkboxes grouped by region (regions fold, with no script)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Territory.objects.filter(is_priority=True), **kwargs)

    def offer(self, territories: Iterable[Territory], *, keep: Iterable[int] = ()) -> None:
        """Offer the priority `territories` (and those in `keep`, already chosen, even if no
        longer a priority zone: editing a profile must not drop them silently)."""
        kept = set(keep)
        offered = [t for t in territories if t.is_priority or t.pk in kept]
        self.queryset = Territory.objects.filter(Q(is_priority=True) | Q(pk__in=kept))
        self.choices = _by_region(offered)


# --- Volunteer's own pages -----------------------------------------------------------------


class VolunteerProfileForm(DsfrFormMixin, forms.ModelForm):
    """The one short sign-up (and edit) form of a volunteer doctor."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    # Longer than 11 on purpose: a number typed with spaces, as printed on the CPS card, is
    # accepted; the model checks the 11 digits and the Luhn key after `clean_rpps`.
    rpps = forms.CharField(
        label=_("RPPS number"),
        help_text=_("11 digits, on your CPS card."),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    preferred_territories = TerritoriesField(
        label=_("Priority territories where you would like to consult"),
        help_text=_("Open a region to choose. You can change this later."),
        required=False,
    )

    class Meta:
        model = Volunteer
        fields = (
            "rpps",
            "practice_status",
            "home_department",
            "software",
            "mss_address",
            "phone",
            "preferred_territories",
            "practice_territory",
        )
        help_texts = {
            "software": _("For example Weda, Doctolib Médecin, MLM, Crossway…"),
            "mss_address": _("Your secure health messaging address (…mssante.fr)."),
            "practice_territory": _("Only if your own practice is in one of these territories."),
        }
        labels = {"practice_territory": _("Territory of your own practice")}
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "mss_address": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    field_order = ("first_name", "last_name")

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].initial = user.first_name
        self.fields["last_name"].initial = user.last_name
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        territories = territories_for_choices()
        chosen = (
            [t.pk for t in self.instance.preferred_territories.all()] if self.instance.pk else []
        )
        self.fields["preferred_territories"].offer(territories, keep=chosen)
        self.fields["practice_territory"].choices = [
            ("", _("My practice is not in one of these territories")),
            *_by_department(territories),
        ]
        self.fields["home_department"].choices = [
            ("", _("Choose your department")),
            *department_choices(Department.objects.all()),
        ]

    def clean_rpps(self) -> str:
        return "".join(self.cleaned_data["rpps"].split())

    @property
    def territory_groups(self) -> list[OptionGroup]:
        return option_groups(self["preferred_territories"])

    def profile_fields(self) -> dict[str, Any]:
        """What `volunteer_register` / `volunteer_update` take, besides the territories."""
        data = self.cleaned_data
        return {name: data[name] for name in self._meta.fields if name != "preferred_territories"}


class CommitmentForm(DsfrFormMixin, forms.Form):
    """Sign (or renew) the follow-up charter: channels, response delay, explicit consent."""

    charter_version = forms.CharField(widget=forms.HiddenInput, initial=CURRENT_VERSION)
    # Not required here: the service says "at least one channel" (the rule lives there).
    channels = forms.MultipleChoiceField(
        label=_("I can be reached for follow-up questions by"),
        choices=Commitment.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[Commitment.Channel.MSSANTE, Commitment.Channel.PHONE],
    )
    response_hours = Commitment._meta.get_field("response_hours").formfield(
        label=_("I answer within (working hours)"), initial=72
    )
    accept = forms.BooleanField(
        label=_("I have read the charter and I commit to follow up on the patients I see."),
        error_messages={"required": _("Tick this box to sign the charter.")},
    )

    def __init__(self, *args: Any, current: Commitment | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if current is not None:  # a renewal starts from what was signed last time
            self.fields["channels"].initial = current.channels
            self.fields["response_hours"].initial = current.response_hours


class AvailabilityForm(DsfrFormMixin, forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    period = forms.ChoiceField(
        label=_("Period"), choices=Period.choices, initial=Period.DAY, widget=forms.RadioSelect
    )
    territories = TerritoriesField(
        label=_("Territories"),
        help_text=_("Your preferred territories are ticked; change them for this date."),
        required=False,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("For example: arriving by train at 9:00."),
    )

    def __init__(self, *args: Any, volunteer: Volunteer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preferred = [t.pk for t in volunteer.preferred_territories.all()]
        self.fields["territories"].offer(territories_for_choices(), keep=preferred)
        self.fields["territories"].initial = preferred
        # A hint for the browser's date picker; the service refuses past dates.
        self.fields["date"].widget.attrs["min"] = timezone.localdate().isoformat()

    @property
    def territory_groups(self) -> list[OptionGroup]:
        return option_groups(self["territories"])


# --- Managers' pages -----------------------------------------------------------------------


class VolunteerFilterForm(DsfrFormMixin, forms.Form):
    """The list's filters. The place (`region`, `department`, `territory`) comes from the
    dashboards' links (`Volunteer.objects.of_place`) and is kept as hidden fields."""

    PLACE_FIELDS = ("region", "department", "territory")

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *Volunteer.Status.choices],
        required=False,
    )
    region = forms.CharField(required=False, max_length=3, widget=forms.HiddenInput)
    department = forms.CharField(required=False, max_length=3, widget=forms.HiddenInput)
    territory = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def place(self) -> dict[str, object]:
        """The place filters given (valid ones only)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {name: data[name] for name in self.PLACE_FIELDS if data.get(name) not in (None, "")}


class VerifyForm(DsfrFormMixin, forms.Form):
    # Required for the page to say so; the service refuses blank evidence all the same.
    evidence = forms.CharField(
        label=_("How was the registration with the Order checked?"),
        help_text=_(
            "For example: ordinal registration checked on the CDOM register (Cher) on "
            "12/03, number 18/1234."
        ),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MaxDaysForm(DsfrFormMixin, forms.Form):
    # Named like the model field, so that the service's error lands next to it.
    max_days_per_month = Volunteer._meta.get_field("max_days_per_month").formfield(
        label=_("Maximum days per month"),
        help_text=_("A half-day counts 0.5."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["max_days_per_month"].widget.attrs["step"] = "0.5"
