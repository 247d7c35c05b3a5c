"""HTML forms of the planning pages: they parse input; every write goes through services.

A service's refusal is given back to the form that asked (`add_service_error`): a
`ValidationError` next to the field it names, a `DomainError` above the form with its code.
"""

from __future__ import annotations

import calendar
import re
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.forms import DsfrFormMixin
from sites.models import Territory
from vacations.models import DayPreparation, Expense, Vacation
from vacations.selectors import add_months, month_start
from volunteers.models import Period, Volunteer

MAX_DATES = 62  # as the API: two months of days at most in one batch
MONTHS_AHEAD = 12
DATE_INPUT_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y")
DATE_SEPARATORS = re.compile(r"[\s,;]+")


class PlanningForm(DsfrFormMixin, forms.Form):
    """The planning pages' forms: DSFR widgets, described errors, service refusals."""


def _parse_day(token: str) -> Date | None:
    for pattern in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(token, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


WEEKDAYS = (
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
)


class OpenDaysForm(PlanningForm):
    """Open many days at once: some weekdays of a month (from today on), and/or exact dates.

    `cleaned_data["dates"]` is the sorted list handed to `vacations_open`, which decides.
    """

    month = forms.ChoiceField(label=_("Month"))
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Every"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Days already past in this month are left out."),
    )
    extra_dates = forms.CharField(
        label=_("Or these dates"),
        required=False,
        max_length=1000,
        help_text=_("Format DD/MM/YYYY, separated by commas or spaces."),
    )
    period = forms.ChoiceField(
        label=_("Period"),
        choices=Period.choices,
        initial=Period.DAY,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, today: Date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        first = month_start(today)
        self.fields["month"].choices = [
            (f"{m:%Y-%m}", capfirst(formats.date_format(m, "F Y")))
            for m in (add_months(first, n) for n in range(MONTHS_AHEAD))
        ]

    def clean_extra_dates(self) -> list[Date]:
        tokens = [t for t in DATE_SEPARATORS.split(self.cleaned_data["extra_dates"]) if t]
        days = []
        for token in tokens:
            day = _parse_day(token)
            if day is None:
                raise ValidationError(
                    _("“%(value)s” is not a date (DD/MM/YYYY)."), params={"value": token[:20]}
                )
            days.append(day)
        return days

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "month" not in data or "extra_dates" not in data:
            return data
        year, month = (int(part) for part in data["month"].split("-"))
        weekdays = set(data.get("weekdays") or ())
        _first, length = calendar.monthrange(year, month)
        in_month = (Date(year, month, 1) + timedelta(days=n) for n in range(length))
        chosen = {d for d in in_month if d.weekday() in weekdays and d >= self.today}
        if not weekdays and not data["extra_dates"]:
            raise ValidationError(_("Tick weekdays or enter dates."), code="no_dates")
        if weekdays and not chosen and not data["extra_dates"]:
            self.add_error("weekdays", _("None of these weekdays is left in this month."))
            return data
        dates = sorted(chosen | set(data["extra_dates"]))
        if len(dates) > MAX_DATES:
            raise ValidationError(
                _("Open at most %(max)s days at once."), params={"max": MAX_DATES}, code="too_many"
            )
        data["dates"] = dates
        return data


class BookForm(PlanningForm):
    # Among those the secretary may name (`selectors.bookable_by`); `vacation_book` refuses
    # one who cannot be booked, and says why.
    volunteer = forms.ModelChoiceField(queryset=Volunteer.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args: Any, volunteers: QuerySet[Volunteer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = volunteers


class CancelForm(PlanningForm):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The volunteer, if any, receives it."),
    )


class CompleteForm(PlanningForm):
    consultations_count = forms.IntegerField(
        label=_("Consultations given"), min_value=0, max_value=200
    )
    no_exams = forms.BooleanField(label=_("No exam was prescribed this day"), required=False)


def _preparation_field(name: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=capfirst(DayPreparation._meta.get_field(name).verbose_name), required=False
    )


class ExpenseForm(PlanningForm):
    """One expense of a day (`vacations.expenses` checks what each kind needs)."""

    kind = forms.ChoiceField(label=_("Expense"), choices=Expense.Kind.choices)
    km = forms.IntegerField(
        label=_("Kilometres (round trip)"),
        required=False,
        min_value=0,
        help_text=_("By car: the refund is the kilometres at the rate per km."),
    )
    ticket_kind = forms.ChoiceField(
        label=_("Kind of ticket"),
        required=False,
        choices=[("", "—"), *Expense.TicketKind.choices],
    )
    amount = forms.DecimalField(
        label=_("Amount paid (EUR)"),
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        help_text=_("Tickets or accommodation: what you paid."),
    )
    receipt_note = forms.CharField(
        label=_("Receipt"),
        required=False,
        max_length=300,
        help_text=_("Where the receipt is, or its reference (optional)."),
    )


class PreparationForm(PlanningForm):
    licence_ready = _preparation_field("licence_ready")
    cps_access_checked = _preparation_field("cps_access_checked")
    previous_handover_read = _preparation_field("previous_handover_read")
    arrival_time = forms.TimeField(
        label=capfirst(DayPreparation._meta.get_field("arrival_time").verbose_name),
        help_text=DayPreparation._meta.get_field("arrival_time").help_text,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )


class OpenDaysFilterForm(PlanningForm):
    """Filters of the open-days search; an invalid filter is reported, not applied."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    territory = forms.TypedChoiceField(
        label=_("Territory"), required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    period = forms.ChoiceField(
        label=_("Period"), required=False, choices=[("", _("Any period")), *Period.choices]
    )

    def __init__(self, *args: Any, territories: list[Territory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = {t.department.region.code: t.department.region.name for t in territories}
        self.fields["region"].choices = [
            ("", _("All regions")),
            *sorted(regions.items(), key=lambda choice: choice[1]),
        ]
        self.fields["territory"].choices = [
            ("", _("All territories")),
            *((t.pk, f"{t.name} ({t.department.code})") for t in territories),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end comes before the start."))
        return data

    def filter(self, days: QuerySet[Vacation]) -> QuerySet[Vacation]:
        if not self.is_bound:
            return days
        self.is_valid()
        values = self.cleaned_data
        if values.get("region"):
            days = days.filter(site__territory__department__region_id=values["region"])
        if values.get("territory"):
            days = days.filter(site__territory_id=values["territory"])
        if values.get("date_from"):
            days = days.filter(date__gte=values["date_from"])
        if values.get("date_to") and "date_to" not in self.errors:
            days = days.filter(date__lte=values["date_to"])
        if values.get("period"):
            days = days.filter(period=values["period"])
        return days


MAX_WEEKS = 26


class CoverageForm(PlanningForm):
    debut = forms.DateField(
        label=_("First week"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    semaines = forms.IntegerField(
        label=_("Weeks"), required=False, min_value=1, max_value=MAX_WEEKS, initial=8
    )

    def values(self, *, today: Date) -> tuple[Date, int]:
        """The first day and number of weeks asked for, or the defaults for what is invalid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        start = data.get("debut") or today
        weeks = data.get("semaines") or self.fields["semaines"].initial
        return start, weeks
