"""Reads of the planning pages that are more than one queryset call.

Each costs a fixed number of queries whatever the data size: the pages that use them pin it in
`tests/vacations/test_pages.py`. Writes are `vacations.services`'s.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal

from django.core.paginator import Page
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncWeek

from config.pagination import SteadyPaginator
from sites.models import HostSite, SheetReadiness, Territory
from vacations.models import Vacation, period_weight
from volunteers.models import Availability, Period, Volunteer

Status = Vacation.Status

# --- A site's month -------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    date: Date
    in_month: bool
    is_today: bool
    vacations: list[Vacation]


@dataclass(frozen=True)
class CalendarWeek:
    number: int  # ISO week number: what French planners call "semaine 10"
    days: list[CalendarDay]


@dataclass(frozen=True)
class MonthCalendar:
    month: Date  # its first day
    weeks: list[CalendarWeek]
    previous: Date
    next: Date
    counts: dict[str, int] = field(default_factory=dict)  # status -> days shown in the month


def month_start(day: Date) -> Date:
    return day.replace(day=1)


def add_months(month: Date, delta: int) -> Date:
    index = month.year * 12 + month.month - 1 + delta
    return Date(index // 12, index % 12 + 1, 1)


def planning_group(user, site: HostSite) -> list[HostSite]:
    """The sites of `site`'s month: the site, then the secondary practices it runs as their
    pôle mère that `user` sees (seed 003, line 11: one shared planning), by name (1 query)."""
    children = (
        HostSite.objects.in_scope_of(user)
        .filter(parent=site, kind__in=HostSite.ATTACHED_KINDS)
        .order_by("name", "pk")
    )
    return [site, *children]


def site_month(
    user, site: HostSite | Sequence[HostSite], month: Date, *, today: Date
) -> MonthCalendar:
    """The weeks (Monday first) that cover `month`, each day with its vacations (1 query), at
    `site` or at each of several sites (a pôle mère's month with its secondary practices).

    Days of the neighbouring months that complete the first and last weeks are shown too.
    """
    sites = [site] if isinstance(site, HostSite) else list(site)
    dates = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        month.year, month.month
    )
    vacations = (
        Vacation.objects.visible_to(user)
        .filter(site__in=sites, date__range=(dates[0][0], dates[-1][-1]))
        .select_related("volunteer__user", "site")
        .order_by("date", "starts_at", "pk")
    )
    by_day: dict[Date, list[Vacation]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for vacation in vacations:
        by_day[vacation.date].append(vacation)
        if vacation.date.month == month.month:
            counts[vacation.status] += 1
    weeks = [
        CalendarWeek(
            number=week[0].isocalendar().week,
            days=[
                CalendarDay(
                    date=day,
                    in_month=day.month == month.month,
                    is_today=day == today,
                    vacations=by_day.get(day, []),
                )
                for day in week
            ],
        )
        for week in dates
    ]
    return MonthCalendar(
        month=month,
        weeks=weeks,
        previous=add_months(month, -1),
        next=add_months(month, 1),
        counts=dict(counts),
    )


def requests_to_confirm(
    user, site: HostSite | Sequence[HostSite], *, today: Date
) -> QuerySet[Vacation]:
    """Days a volunteer asked for at `site` (or at several sites), soonest first (the page
    paginates them)."""
    sites = [site] if isinstance(site, HostSite) else list(site)
    return (
        Vacation.objects.visible_to(user)
        .filter(site__in=sites, status=Status.REQUESTED, date__gte=today)
        .select_related("volunteer__user", "site")
        .order_by("date", "starts_at", "pk")
    )


# --- Booking a volunteer on an open day -----------------------------------------------------


def covering_periods(period: str) -> list[str]:
    """Periods of an availability that cover a vacation of `period` (a day covers both halves)."""
    return [Period.DAY] if period == Period.DAY else [Period.DAY, period]


def bookable_by(user, vacation: Vacation) -> QuerySet[Volunteer]:
    """Whom `user` may name to book `vacation`: the volunteers it sees (for site staff, those
    who chose the site's territory), and whoever requested this very day."""
    return Volunteer.objects.filter(
        Q(pk__in=Volunteer.objects.visible_to(user).values("pk")) | Q(pk=vacation.volunteer_id)
    )


def available_for(vacation: Vacation) -> Exists:
    """Per volunteer (OuterRef "pk"): an availability covers the day's date and period, in the
    site's territory when the volunteer named territories."""
    return Exists(
        Availability.objects.filter(
            volunteer=OuterRef("pk"),
            date=vacation.date,
            period__in=covering_periods(vacation.period),
        ).filter(Q(territories__isnull=True) | Q(territories=vacation.site.territory_id))
    )


def days_taken_for(vacation: Vacation) -> Coalesce:
    """Per volunteer (OuterRef "pk"): days requested, booked or done in the day's month."""
    taken = (
        Vacation.objects.taken()
        .filter(
            volunteer=OuterRef("pk"),
            date__year=vacation.date.year,
            date__month=vacation.date.month,
        )
        .order_by()
        .values("volunteer")
        .annotate(total=Sum(period_weight()))
        .values("total")
    )
    return Coalesce(
        Subquery(taken),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=4, decimal_places=1),
    )


def booking_candidates(vacation: Vacation, *, user, today: Date) -> QuerySet[Volunteer]:
    """Bookable volunteers for `vacation` among those `user` may see (for site staff: who chose
    the site's territory), those who said they are free then (and there) first.

    Each comes annotated with `available` (an availability covers the day's date and period,
    in the site's territory when the volunteer named territories) and `days_taken` (days
    already requested, booked or done in that month, a half-day counting 0.5) — both computed
    by the database in the list's own query.
    """
    return (
        Volunteer.objects.eligible(today=today)
        .filter(pk__in=Volunteer.objects.visible_to(user).values("pk"))
        .select_related("user", "home_department")
        .annotate(
            available=available_for(vacation),
            days_taken=days_taken_for(vacation),
        )
        .order_by("-available", "user__last_name", "user__first_name", "pk")
    )


# --- A volunteer's own planning -------------------------------------------------------------


@dataclass(frozen=True)
class MyPlanning:
    upcoming: list[Vacation]  # booked, from today on
    requested: list[Vacation]  # waiting for the site's answer
    to_close: list[Vacation]  # booked and past: record the day (or the site records it)
    history: Page  # done, no-show or cancelled days, newest first


HISTORY_PAGE_SIZE = 10


def my_planning(user, volunteer: Volunteer, *, today: Date, page: str | None) -> MyPlanning:
    """A volunteer's days in 3 queries: the active ones, and a page of past ones (+ count)."""
    mine = Vacation.objects.visible_to(user).filter(volunteer=volunteer)
    active = (
        mine.filter(
            Q(status=Status.BOOKED) | Q(status=Status.REQUESTED, date__gte=today),
        )
        .select_related("site__info_sheet", "preparation")
        .order_by("date", "starts_at", "pk")
    )
    upcoming: list[Vacation] = []
    requested: list[Vacation] = []
    to_close: list[Vacation] = []
    for vacation in active:
        if vacation.status == Status.REQUESTED:
            requested.append(vacation)
        elif vacation.date >= today:
            upcoming.append(vacation)
        else:
            to_close.append(vacation)
    past = (
        mine.filter(status__in=(Status.DONE, Status.NO_SHOW, Status.CANCELLED))
        .select_related("site")
        .order_by("-date", "-starts_at", "-pk")
    )
    history = SteadyPaginator(past, HISTORY_PAGE_SIZE).get_page(page)
    return MyPlanning(upcoming=upcoming, requested=requested, to_close=to_close, history=history)


# --- Open days a volunteer may request ------------------------------------------------------


def _mandatory_readiness(**conditions) -> Coalesce:
    """A count of the site's mandatory readiness items (matching `conditions`), as a subquery:
    the same numbers as `HostSite.objects.with_readiness()`, through the vacation query."""
    rows = (
        SheetReadiness.objects.filter(
            sheet__site=OuterRef("site"), item__mandatory=True, **conditions
        )
        .order_by()
        .values("sheet")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def open_days(user, *, today: Date) -> QuerySet[Vacation]:
    """Open days from `today` at public sites, with the facts of the site's sheet a volunteer
    weighs (consultation length, accommodation, readiness), in one query per page."""
    return (
        Vacation.objects.visible_to(user)
        .filter(status=Status.OPEN, date__gte=today, site__in=HostSite.objects.public())
        .select_related("site__info_sheet", "site__territory__department__region")
        .annotate(
            readiness_mandatory=_mandatory_readiness(),
            readiness_mandatory_ok=_mandatory_readiness(status=SheetReadiness.Status.OK),
        )
        .order_by("date", "starts_at", "site__name", "pk")
    )


def offered_territories() -> list[Territory]:
    """Territories with a public site, with their department and region (1 query)."""
    return list(
        Territory.objects.filter(pk__in=HostSite.objects.public().values("territory"))
        .select_related("department__region")
        .order_by("name")
    )


# --- Coverage for managers ------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageCell:
    week: Date
    open: int = 0
    taken: int = 0  # requested or booked
    done: int = 0

    @property
    def empty(self) -> bool:
        return not (self.open or self.taken or self.done)


@dataclass(frozen=True)
class CoverageRow:
    site: HostSite
    cells: list[CoverageCell]

    @property
    def totals(self) -> CoverageCell:
        return CoverageCell(
            week=self.cells[0].week if self.cells else Date.min,
            open=sum(c.open for c in self.cells),
            taken=sum(c.taken for c in self.cells),
            done=sum(c.done for c in self.cells),
        )


def week_start(day: Date) -> Date:
    return day - timedelta(days=day.weekday())


def coverage(user, sites: Sequence[HostSite], *, start: Date, weeks: int) -> list[CoverageRow]:
    """Days open / requested or booked / done per site and week (Monday first), counted by the
    database in one grouped query for all of `sites`."""
    if not sites:
        return []
    start = week_start(start)
    columns = [start + timedelta(weeks=n) for n in range(weeks)]
    counted = (
        Vacation.objects.visible_to(user)
        .filter(
            site__in=[site.pk for site in sites],
            date__gte=start,
            date__lt=start + timedelta(weeks=weeks),
        )
        .annotate(week=TruncWeek("date"))
        .order_by()
        .values("site", "week")
        .annotate(
            open=Count("pk", filter=Q(status=Status.OPEN)),
            taken=Count("pk", filter=Q(status__in=(Status.REQUESTED, Status.BOOKED))),
            done=Count("pk", filter=Q(status=Status.DONE)),
        )
    )
    cells: dict[tuple[int, Date], CoverageCell] = {}
    for row in counted:
        cells[row["site"], row["week"]] = CoverageCell(
            week=row["week"], open=row["open"], taken=row["taken"], done=row["done"]
        )
    return [
        CoverageRow(
            site=site,
            cells=[cells.get((site.pk, week), CoverageCell(week=week)) for week in columns],
        )
        for site in sites
    ]


# --- The public page of a site --------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    date: Date
    period: str
    period_label: str


def upcoming_presence(site: HostSite, *, today: Date, limit: int = 10) -> list[Presence]:
    """The next days a volunteer doctor is expected at `site` (booked), without any name.

    For the public page of a site: anyone may read it, so it says when, never who (1 query).
    """
    labels = dict(Period.choices)
    rows = (
        Vacation.objects.filter(site=site, status=Status.BOOKED, date__gte=today)
        .order_by("date", "starts_at", "pk")
        .values_list("date", "period")[:limit]
    )
    return [Presence(date=day, period=period, period_label=labels[period]) for day, period in rows]
