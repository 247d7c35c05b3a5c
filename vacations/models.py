"""Vacation days: a site opens a day (or half-day) in one of its rooms, a volunteer takes it.

State machine (API.md § Vacations), every transition in `vacations.services`:
open → requested → booked → done, plus decline (requested → open), withdraw (requested|booked
→ open), cancel (→ cancelled) and no_show (booked → no_show).
"""

from __future__ import annotations

import operator
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.querying import InArray
from sites.models import HostSite
from volunteers.models import Period, Volunteer

PARIS = ZoneInfo("Europe/Paris")
NOON = time(12, 0)

# How much of a day each period weighs against the monthly maximum, and is paid.
PERIOD_WEIGHT = {Period.DAY: Decimal("1"), Period.AM: Decimal("0.5"), Period.PM: Decimal("0.5")}


def period_weight() -> models.Case:
    """`PERIOD_WEIGHT` as a database expression, to sum days in queries."""
    return models.Case(
        *(models.When(period=period, then=models.Value(w)) for period, w in PERIOD_WEIGHT.items()),
        output_field=models.DecimalField(max_digits=4, decimal_places=1),
    )


def slot_bounds(day: Date, period: str) -> tuple[datetime, datetime]:
    """The aware [start, end) of a period in Paris time: a full day overlaps both halves.

    Built from local wall-clock times, so a day keeps its meaning across a DST change.
    """
    midnight = datetime.combine(day, time.min, tzinfo=PARIS)
    noon = datetime.combine(day, NOON, tzinfo=PARIS)
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=PARIS)
    if period == Period.AM:
        return midnight, noon
    if period == Period.PM:
        return noon, next_midnight
    return midnight, next_midnight


def usual_hours(period: str) -> tuple[time, time]:
    """A period's usual (start, end) wall-clock hours in Paris (`RELEVE_USUAL_HOURS`)."""
    start, end = settings.RELEVE_USUAL_HOURS[period]
    return time.fromisoformat(start), time.fromisoformat(end)


def usual_arrival(period: str) -> time:
    """When a volunteer is expected for a period unless the site says otherwise."""
    return usual_hours(period)[0]


def overlapping_periods(period: str) -> list[str]:
    """Periods of the same date that overlap `period`."""
    if period == Period.DAY:
        return [Period.DAY, Period.AM, Period.PM]
    return [Period.DAY, period]


class VacationQuerySet(models.QuerySet):
    def visible_to(self, user) -> VacationQuerySet:
        """Managers and site staff: vacations at the sites in their scope; a volunteer: its
        own, and the open days of the public catalogue (to request one)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(reduce(operator.or_, self.visible_branches(user)))

    def visible_branches(self, user, *, alone: bool = False) -> list[Q]:
        """The branches of `visible_to` for a signed-in user (not the operator): the days at
        the sites in its scope, its own days, the catalogue's open days. In the OR each is
        indexable, no join inside (config.querying.InArray); `alone`: each read on its own (a
        list reads a page of each, `config.querying.BranchedRows`), the open days' branch is a
        plain `IN (subquery)` the planner can estimate: they are then read in date order
        (their index) and kept while their site is public, 50 rows read for a page of 50 (a
        scope's few sites stay an array: an index scan per site)."""
        sites = HostSite.objects.in_scope_of(user).values("pk")
        mine = Volunteer.objects.filter(user=user).values("pk")
        public = HostSite.objects.public().values("pk")
        open_days = (
            Q(status=Vacation.Status.OPEN, site_id__in=public)
            if alone
            else Q(status=Vacation.Status.OPEN) & Q(InArray("site_id", public))
        )
        return [Q(InArray("site_id", sites)), Q(InArray("volunteer_id", mine)), open_days]

    def taken(self) -> VacationQuerySet:
        """Vacations that hold a volunteer's time."""
        return self.filter(status__in=Vacation.TAKEN_STATUSES)

    def occupying_a_room(self) -> VacationQuerySet:
        return self.filter(status__in=Vacation.ROOM_STATUSES)


def to_close_q(today) -> Q:
    """A day to close: booked and past (its volunteer or its site records it, then it is
    done). The home pages count it; `my_planning` sorts the same days apart."""
    return Q(status=Vacation.Status.BOOKED, date__lt=today)


class Vacation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REQUESTED = "requested", _("Requested")
        BOOKED = "booked", _("Booked")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    Period = Period
    TAKEN_STATUSES = (Status.REQUESTED, Status.BOOKED, Status.DONE)
    ROOM_STATUSES = (Status.OPEN, Status.REQUESTED, Status.BOOKED, Status.DONE)

    site = models.ForeignKey(
        HostSite, on_delete=models.PROTECT, related_name="vacations", verbose_name=_("host site")
    )
    date = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=3, choices=Period.choices, default="day")
    starts_at = models.DateTimeField(_("starts at"), editable=False)
    ends_at = models.DateTimeField(_("ends at"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vacations",
        verbose_name=_("volunteer"),
    )
    consultation_minutes = models.PositiveSmallIntegerField(_("consultation length (minutes)"))
    no_exams = models.BooleanField(_("no exam prescribed"), default=False)
    consultations_count = models.PositiveSmallIntegerField(
        _("consultations"), null=True, blank=True
    )
    indemnity = models.DecimalField(
        _("indemnity (EUR)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VacationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vacation day")
        verbose_name_plural = _("vacation days")
        ordering = ["date", "starts_at", "site_id", "pk"]
        indexes = [
            models.Index(fields=["site", "date"]),
            models.Index(fields=["volunteer", "date"]),
            # The open-days search (`selectors.open_days`): open days from today, in its sort
            # order (then site name, an incremental sort within a slot): a page reads its rows.
            models.Index(
                fields=["date", "starts_at"],
                condition=Q(status="open"),
                name="vacation_open_by_date",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="vacation_taken_has_volunteer",
                condition=~Q(status__in=["requested", "booked", "done", "no_show"])
                | Q(volunteer__isnull=False),
            ),
            models.CheckConstraint(
                name="vacation_open_has_no_volunteer",
                condition=~Q(status="open") | Q(volunteer__isnull=True),
            ),
            models.CheckConstraint(
                name="vacation_ends_after_start", condition=Q(ends_at__gt=models.F("starts_at"))
            ),
            # PostgreSQL adds an exclusion constraint (migration 0002): no two taken vacations
            # of one volunteer overlap in time.
        ]

    def __str__(self) -> str:
        return f"{self.site} — {self.date:%d/%m/%Y} ({self.get_period_display()})"

    @property
    def weight(self) -> Decimal:
        return PERIOD_WEIGHT[Period(self.period)]


class VacationRelease(models.Model):
    """A volunteer let go of a day (withdrew, was declined): its calendar must cancel it."""

    class Kind(models.TextChoices):
        WITHDRAWN = "withdrawn", _("Withdrawn by the volunteer")
        DECLINED = "declined", _("Declined by the site")

    vacation = models.ForeignKey(Vacation, on_delete=models.CASCADE, related_name="releases")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="releases")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["volunteer", "at"])]

    def __str__(self) -> str:
        return f"{self.vacation} — {self.kind}"


class DayPreparation(models.Model):
    """What must be checked before a booked day; both the site and the volunteer see it."""

    vacation = models.OneToOneField(Vacation, on_delete=models.CASCADE, related_name="preparation")
    licence_ready = models.BooleanField(
        _("software licence ready for this volunteer"), default=False
    )
    cps_access_checked = models.BooleanField(_("CPS card access checked"), default=False)
    previous_handover_read = models.BooleanField(_("previous day's handover read"), default=False)
    arrival_time = models.TimeField(
        _("expected arrival time"),
        null=True,
        blank=True,
        help_text=_("Told to the volunteer in the reminders; the period's usual time otherwise."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("day preparation")
        verbose_name_plural = _("day preparations")

    def __str__(self) -> str:
        return f"{self.vacation} preparation"

    def arrival(self) -> time:
        return self.arrival_time or usual_arrival(self.vacation.period)

    @property
    def done(self) -> int:
        return sum((self.licence_ready, self.cps_access_checked, self.previous_handover_read))


class Expense(models.Model):
    """What a volunteer spent to come for a day, refunded with the month's statement beside the
    indemnities (seed 002, line 2370 and 2384: mileage and travel costs paid by the ARS; seed
    000, line 67: accommodation and transport). Written by `vacations.expenses` only: a car
    trip's amount is its kilometres at `RELEVE_KM_RATE`; frozen once the statement of the day's
    territory and month is validated; no accommodation where the site gave a night."""

    class Kind(models.TextChoices):
        CAR = "car", _("Travel by car")
        TICKET = "ticket", _("Travel tickets")
        ACCOMMODATION = "accommodation", _("Accommodation")

    class TicketKind(models.TextChoices):
        TRAIN = "train", _("Train")
        BUS = "bus", _("Bus or coach")
        OTHER = "other", _("Other")

    vacation = models.ForeignKey(
        Vacation, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("day")
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    ticket_kind = models.CharField(
        _("kind of ticket"), max_length=10, choices=TicketKind.choices, blank=True
    )
    km = models.PositiveIntegerField(_("kilometres"), null=True, blank=True)
    amount = models.DecimalField(_("amount (EUR)"), max_digits=8, decimal_places=2)
    receipt_note = models.CharField(
        _("receipt"),
        max_length=300,
        blank=True,
        help_text=_("Where the receipt is, or its reference (ticket number, invoice…)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        ordering = ["vacation", "kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="expense_amount_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind="car") & Q(km__isnull=False) & Q(km__gte=0))
                | (~Q(kind="car") & Q(km__isnull=True)),
                name="expense_car_has_km",
            ),
            models.CheckConstraint(
                condition=(Q(kind="ticket") & ~Q(ticket_kind=""))
                | (~Q(kind="ticket") & Q(ticket_kind="")),
                name="expense_ticket_has_kind",
            ),
            models.UniqueConstraint(
                fields=["vacation"],
                condition=Q(kind="accommodation"),
                name="expense_one_accommodation_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vacation} — {self.get_kind_display()} {self.amount}"


class NightRequest(models.Model):
    """A night at one of the site's accommodation offers, asked with a day request; the site's
    staff confirm or decline it (`vacations.expenses`). A confirmed night is provided by the
    site: no accommodation expense for that day."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    vacation = models.ForeignKey(
        Vacation, on_delete=models.CASCADE, related_name="nights", verbose_name=_("day")
    )
    offer = models.ForeignKey(
        "sites.AccommodationOffer",
        on_delete=models.SET_NULL,
        null=True,
        related_name="nights",
        verbose_name=_("accommodation offer"),
    )
    night = models.DateField(_("night of"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("night requested")
        verbose_name_plural = _("nights requested")
        ordering = ["night", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vacation", "night"], name="night_once_per_day"),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_at__isnull=False),
                name="night_decided_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vacation} — {self.night:%d/%m/%Y} ({self.get_status_display()})"
