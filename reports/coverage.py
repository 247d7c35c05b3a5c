"""Coverage: how much of the host sites' need volunteers cover, per place, over a period.

One definition of every figure, read by the page (`/pilotage/couverture/`), the overview
(`/pilotage/`), the API (`/api/v1/reports/coverage/`) and its CSV / XLSX:

- Days are counted by period: a full day weighs 1, a half-day (morning or afternoon) 0.5
  (`vacations.models.period_weight()`), on the vacation's date (a date is a Paris day), from
  `period.start` to `period.end` inclusive.
- `days_open`, `days_requested`, `days_booked`, `days_done`, `days_cancelled`,
  `days_no_show`: the days of that status now (`days_booked` is status `booked` only: a day
  done is no longer booked).
- `days_needed`: what the sites asked for. Each *active* site declares the days a month it
  needs covered (`HostSite.days_wanted_per_month`); over the period its need is that number
  prorated by the share of each month the period covers — Σ over the months touched of
  (days of the period in that month ÷ days in that month) — rounded to the nearest half-day,
  halves up (a site wanting 10 days a month needs 10 over a whole month, 9 over 28 days of a
  31-day month: 10 × 28 ÷ 31 = 9.03…). The need of a place is the sum of its sites' needs, so
  the rows of a table always add up to its total. Draft and suspended sites need nothing.
- `fill_rate` = (`days_booked` + `days_done`) ÷ `days_needed` when the need is above 0, else
  null (no need declared: no rate, rather than a rate of infinity). It may exceed 1.
- `population`: the territory's (INSEE); a region's or department's is the sum of its
  territories' known populations (null when none is known). `days_per_10000` = (`days_booked`
  + `days_done`) × 10,000 ÷ population, null without a population.
- The red lists, always over the next 14 days whatever the period shown: the *priority*
  territories of the place with no day booked or done from today to today + 13 days (at any
  of their sites), and the priority territories with no active site. Their rows carry
  `alert`; a region's or department's row says how many of its priority territories are red.

Every query groups in the database (one `GROUP BY` per kind of figure): a table costs the same
number of queries for two territories as for 1,250.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reports.periods import Period, next_weeks
from reports.scope import LEVEL_LABELS, Child, Place
from reports.tables import Column, Table
from sites.models import HostSite, Territory
from vacations.models import Vacation, period_weight

Status = Vacation.Status
RED_DAYS = 14  # the red list looks this many days ahead, today included
COVERED = (Status.BOOKED, Status.DONE)  # the days that count as covering the need

# (column key, status counted): the days of each status.
STATUS_COLUMNS = (
    ("days_open", Status.OPEN),
    ("days_requested", Status.REQUESTED),
    ("days_booked", Status.BOOKED),
    ("days_done", Status.DONE),
    ("days_cancelled", Status.CANCELLED),
    ("days_no_show", Status.NO_SHOW),
)
DAY_KEYS = ("days_needed", *(key for key, _status in STATUS_COLUMNS))
ZERO = Decimal(0)

DAY_COLUMNS = (
    Column("days_needed", _("Days needed"), "decimal"),
    Column("days_open", _("Days open"), "decimal"),
    Column("days_requested", _("Days requested"), "decimal"),
    Column("days_booked", _("Days booked"), "decimal"),
    Column("days_done", _("Days done"), "decimal"),
    Column("days_cancelled", _("Days cancelled"), "decimal"),
    Column("days_no_show", _("Days of no-show"), "decimal"),
    Column("fill_rate", _("Fill rate"), "percent"),
)
POPULATION = Column("population", _("Population"), "int")
PER_10000 = Column("days_per_10000", _("Days covered per 10,000 inhabitants"), "decimal")
ALERT = Column("alert", _("Alert"), "text", hidden=True)


def columns_for(kind: str) -> list[Column]:
    """The columns of a table whose rows are regions, departments, territories or sites."""
    # Regions and departments are named by an INSEE code, territories and sites by a number.
    id_kind = "int" if kind in ("territory", "site") else "id"
    head = [
        Column("id", _("Code"), id_kind, hidden=True),
        Column("name", LEVEL_LABELS[kind], "text"),
    ]
    if kind == "site":
        return [*head, Column("status", _("Status"), "text"), *DAY_COLUMNS]
    if kind == "territory":
        head += [
            Column("department", _("Department"), "id", hidden=True),
            Column("is_priority", _("Priority zone"), "bool"),
        ]
    return [*head, POPULATION, *DAY_COLUMNS, PER_10000, ALERT]


# The API's rows are territories whatever the place (API.md § Reports).
API_COLUMNS = columns_for("territory")


# --- Figures ----------------------------------------------------------------------------------


def fill_rate(covered: Decimal, needed: Decimal) -> Decimal | None:
    """(booked + done) ÷ needed, to 4 decimals; None without a need."""
    if not needed:
        return None
    return (Decimal(covered) / Decimal(needed)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def per_10000(covered: Decimal, population: int | None) -> Decimal | None:
    if not population:
        return None
    return (Decimal(covered) * 10000 / population).quantize(Decimal("0.01"), ROUND_HALF_UP)


def need_fraction(period: Period) -> tuple[int, int]:
    """The share of a month's need the period covers, as `numerator / denominator` (exact):
    Σ over the months it touches of (its days in the month ÷ the month's days)."""
    parts: list[tuple[int, int]] = []
    day = period.start
    while day <= period.end:
        length = calendar.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=length)
        last = min(month_end, period.end)
        parts.append(((last - day).days + 1, length))
        day = last + timedelta(days=1)
    denominator = math.lcm(*(length for _days, length in parts))
    return sum(days * (denominator // length) for days, length in parts), denominator


def _need_half_days(period: Period):
    """A site's need over the period, in half-days, as a database expression: the monthly
    need × N ÷ L rounded to the nearest half, halves up, in integers (exact on every database):
    floor((4 · wanted · N + L) ÷ 2L)."""
    numerator, denominator = need_fraction(period)
    wanted = Cast(F("days_wanted_per_month"), BigIntegerField())
    return ExpressionWrapper(
        (wanted * Value(4 * numerator, BigIntegerField()) + Value(denominator, BigIntegerField()))
        / Value(2 * denominator, BigIntegerField()),
        output_field=BigIntegerField(),
    )


def _via(prefix: str, site_field: str) -> str:
    """The field of `site_field` (a path from HostSite) seen from a model's `prefix` link."""
    return prefix if site_field == "pk" else f"{prefix}__{site_field}"


def _grouped(queryset, field: str | None, **aggregates) -> dict:
    """`{group value: {name: value}}` in one query (`{None: ...}` without a field)."""
    if field is None:
        return {None: queryset.aggregate(**aggregates)}
    rows = queryset.order_by().values(field).annotate(**aggregates)
    return {row.pop(field): row for row in rows}


def _needs(place: Place, period: Period, site_field: str | None) -> dict:
    sites = place.sites.filter(status=HostSite.Status.ACTIVE)
    return _grouped(sites, site_field, need=Sum(_need_half_days(period)))


def _days(place: Place, period: Period, site_field: str | None) -> dict:
    weight = period_weight()
    days = Vacation.objects.filter(
        site__in=place.sites, date__gte=period.start, date__lte=period.end
    )
    field = None if site_field is None else _via("site", site_field)
    return _grouped(
        days,
        field,
        **{key: Sum(weight, filter=Q(status=status)) for key, status in STATUS_COLUMNS},
    )


def _populations(place: Place, site_field: str) -> dict:
    field = "pk" if site_field == "territory" else site_field.removeprefix("territory__")
    return _grouped(place.territories, field, population=Sum("population"))


def figures(need: dict | None, days: dict | None) -> dict:
    """A row's day figures from its two aggregates (missing: nothing)."""
    need_half = (need or {}).get("need") or 0
    row = {"days_needed": Decimal(need_half) / 2}
    for key, _status in STATUS_COLUMNS:
        row[key] = Decimal((days or {}).get(key) or ZERO)
    row["fill_rate"] = fill_rate(row["days_booked"] + row["days_done"], row["days_needed"])
    return row


# --- The red lists --------------------------------------------------------------------------


@dataclass(frozen=True)
class RedTerritory:
    territory: Territory
    no_booked_day: bool
    no_active_site: bool
    url: str

    @property
    def alert(self) -> str:
        reasons = []
        if self.no_active_site:
            reasons.append(gettext("No active site"))
        if self.no_booked_day:
            reasons.append(gettext("No day booked in the next 14 days"))
        return " · ".join(reasons)


@dataclass(frozen=True)
class RedLists:
    territories: list[RedTerritory]

    @property
    def no_booked_day(self) -> list[RedTerritory]:
        return [red for red in self.territories if red.no_booked_day]

    @property
    def no_active_site(self) -> list[RedTerritory]:
        return [red for red in self.territories if red.no_active_site]

    def by_pk(self) -> dict[int, RedTerritory]:
        return {red.territory.pk: red for red in self.territories}

    def __len__(self) -> int:
        return len(self.territories)


def _booked_soon(today: Date):
    return Vacation.objects.filter(
        site__territory=OuterRef("pk"),
        status__in=COVERED,
        date__gte=today,
        date__lt=today + timedelta(days=RED_DAYS),
    )


def _active_site():
    return HostSite.objects.filter(territory=OuterRef("pk"), status=HostSite.Status.ACTIVE)


def without_booked_day(territories: QuerySet[Territory], *, today: Date) -> QuerySet[Territory]:
    """The priority territories among `territories` with no day booked (or done) from today
    to today + 13: the red lists' first rule, also the home page's tile."""
    return territories.filter(is_priority=True).filter(~Exists(_booked_soon(today)))


def red_lists(place: Place, *, today: Date | None = None, query: str = "") -> RedLists:
    """The priority territories of the place with no day booked (or done) from today to
    today + 13, or with no active site: one query. `query` (a period) is kept on the links."""
    today = today or timezone.localdate()
    territories = (
        place.territories.filter(is_priority=True)
        .annotate(booked_soon=Exists(_booked_soon(today)), has_active=Exists(_active_site()))
        .filter(Q(booked_soon=False) | Q(has_active=False))
        .select_related("department")
        .order_by("name", "pk")
    )
    base = reverse("reports:coverage")
    return RedLists(
        [
            RedTerritory(
                territory=t,
                no_booked_day=not t.booked_soon,
                no_active_site=not t.has_active,
                url=_url(base, {"territory": str(t.pk)}, query),
            )
            for t in territories
        ]
    )


# --- The table ------------------------------------------------------------------------------


def _url(base: str, params: dict, query: str = "") -> str:
    return f"{base}?{'&'.join(q for q in (urlencode(params), query) if q)}"


def period_query(period: Period) -> str:
    return urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()})


def days_url(params: dict, period: Period, statuses: Iterable[str]) -> str:
    """The list of the days a figure counts (`reports:coverage_days`)."""
    pairs = [*params.items(), *(("status", s) for s in statuses)]
    return f"{reverse('reports:coverage_days')}?{urlencode(pairs)}&{period_query(period)}"


def _territory_rows(place: Place) -> list[Child]:
    territories = place.territories.select_related("department").order_by("name", "pk")
    return [Child(t.pk, t.name, {"territory": str(t.pk)}, t) for t in territories]


def coverage_table(
    place: Place,
    period: Period,
    *,
    by: str = "child",
    today: Date | None = None,
    red: RedLists | None = None,
    children: list[Child] | None = None,
) -> Table:
    """The coverage of the place over the period: a row per child of the place (regions of
    France, departments of a region, territories of a department, sites of a territory, the
    site itself), or per territory (`by="territory"`, the API's rows) — with a total row.
    `red`, `children`: the place's red lists and children when the caller has them already."""
    if by == "territory":
        kind, site_field, rows = "territory", "territory", _territory_rows(place)
    else:
        kind, site_field = place.child_level, place.child_of_site
        rows = place.children() if children is None else children
    needs = _needs(place, period, site_field)
    days = _days(place, period, site_field)
    populations = _populations(place, site_field) if kind != "site" else {}
    query = period_query(period)
    if red is None:
        red = red_lists(place, today=today, query=query)
    red_by_pk = red.by_pk()
    red_of = _red_counts(red, kind)
    page = reverse("reports:coverage")
    table_rows = []
    for child in rows:
        row = {"id": child.key, "name": child.label}
        row.update(figures(needs.get(child.key), days.get(child.key)))
        covered = row["days_booked"] + row["days_done"]
        links = {key: days_url(child.params, period, [status]) for key, status in STATUS_COLUMNS}
        links["fill_rate"] = days_url(child.params, period, COVERED)
        row["url"] = _url(page, child.params, query)
        if kind == "site":
            site = child.obj
            row["status"] = site.get_status_display()
            links["days_needed"] = reverse("site_detail", args=[site.pk])
            if place.level == "site":
                row["url"] = reverse("site_planning", args=[site.pk])
        else:
            links["days_needed"] = row["url"]
            population = (populations.get(child.key) or {}).get("population")
            row["population"] = population
            row["days_per_10000"] = per_10000(covered, population)
            links["days_per_10000"] = links["fill_rate"]
            row["alert"] = ""
        if kind == "territory":
            territory = child.obj
            row["department"] = territory.department_id
            row["is_priority"] = territory.is_priority
            if child.key in red_by_pk:
                row["alert"] = red_by_pk[child.key].alert
        elif kind in ("region", "department") and red_of.get(child.key):
            row["alert"] = gettext("Priority territories in red: %(count)s") % {
                "count": red_of[child.key]
            }
        row["links"] = links
        table_rows.append(row)
    return Table(
        name="coverage",
        columns=columns_for(kind),
        rows=table_rows,
        totals=_totals(table_rows, kind),
        meta={"from": period.start, "to": period.end},
    )


def _red_counts(red: RedLists, kind: str) -> dict:
    if kind not in ("region", "department"):
        return {}
    counts: dict = {}
    for item in red.territories:
        department = item.territory.department
        key = department.region_id if kind == "region" else department.pk
        counts[key] = counts.get(key, 0) + 1
    return counts


def _totals(rows: list[dict], kind: str) -> dict:
    totals: dict = {key: sum((row[key] for row in rows), ZERO) for key in DAY_KEYS}
    covered = totals["days_booked"] + totals["days_done"]
    totals["fill_rate"] = fill_rate(covered, totals["days_needed"])
    if kind != "site":
        known = [row["population"] for row in rows if row["population"] is not None]
        totals["population"] = sum(known) if known else None
        totals["days_per_10000"] = per_10000(covered, totals["population"])
    return totals


# --- The overview and the charts ----------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """The place's coverage over the next four weeks, for the overview's tiles."""

    period: Period
    days_needed: Decimal
    days_covered: Decimal  # booked + done
    fill_rate: Decimal | None
    red: RedLists


def place_totals(place: Place, period: Period) -> dict:
    """The place's own figures over the period (needed, each status, fill rate): two queries.
    What the overview, the home page and the monthly summary say about coverage."""
    return figures(_needs(place, period, None)[None], _days(place, period, None)[None])


def headline(place: Place, *, today: Date | None = None) -> Headline:
    today = today or timezone.localdate()
    period = next_weeks(today)
    row = place_totals(place, period)
    return Headline(
        period=period,
        days_needed=row["days_needed"],
        days_covered=row["days_booked"] + row["days_done"],
        fill_rate=row["fill_rate"],
        red=red_lists(place, today=today, query=period_query(period)),
    )


@dataclass(frozen=True)
class PriorityMap:
    """Per department (INSEE code) and per region: the share, in %, of the place's priority
    territories with a day booked or done in the next 14 days (the map's colour), and how
    many priority territories there are. Places without a priority territory are left out."""

    departments: dict[str, Decimal]
    regions: dict[str, Decimal]
    counts: dict[str, int]  # department code → priority territories
    region_of: dict[str, str]  # department code → region code
    total: Decimal | None  # the share over the whole place


def _share(covered: int, total: int) -> Decimal:
    return (Decimal(covered) * 100 / total).quantize(Decimal("0.1"), ROUND_HALF_UP)


def priority_map(place: Place, *, today: Date | None = None) -> PriorityMap:
    """The choropleth's data: one query grouped by department (regions add their
    departments up)."""
    today = today or timezone.localdate()
    rows = (
        place.territories.filter(is_priority=True)
        .annotate(booked_soon=Exists(_booked_soon(today)))
        .order_by()
        .values("department", "department__region")
        .annotate(total=Count("pk"), covered=Count("pk", filter=Q(booked_soon=True)))
        .order_by("department")
    )
    departments, counts, region_of = {}, {}, {}
    regions: dict[str, list[int]] = {}
    for row in rows:
        departments[row["department"]] = _share(row["covered"], row["total"])
        counts[row["department"]] = row["total"]
        region_of[row["department"]] = row["department__region"]
        region = regions.setdefault(row["department__region"], [0, 0])
        region[0] += row["covered"]
        region[1] += row["total"]
    covered, total = sum(r[0] for r in regions.values()), sum(r[1] for r in regions.values())
    return PriorityMap(
        departments=departments,
        regions={code: _share(*pair) for code, pair in sorted(regions.items())},
        counts=counts,
        region_of=region_of,
        total=_share(covered, total) if total else None,
    )


@dataclass(frozen=True)
class Weekly:
    weeks: list[Date]  # Mondays
    series: dict[str, list[Decimal]]  # a row's label → days booked or done per week


def week_start(day: Date) -> Date:
    return day - timedelta(days=day.weekday())


def weekly_days(place: Place, period: Period, *, children: list[Child] | None = None) -> Weekly:
    """Days booked or done per (ISO, Monday) week of the period and per child of the place
    (territories of a department, sites of a territory...; the line chart), one query.
    Weeks cut by the period's ends count only the period's days."""
    site_field = place.child_of_site
    rows = (
        Vacation.objects.filter(
            site__in=place.sites,
            date__gte=period.start,
            date__lte=period.end,
            status__in=COVERED,
        )
        .annotate(week=TruncWeek("date"))
        .order_by()
        .values(_via("site", site_field), "week")
        .annotate(days=Sum(period_weight()))
    )
    weeks = []
    monday = week_start(period.start)
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    index = {week: i for i, week in enumerate(weeks)}
    children = place.children() if children is None else children
    series = {child.key: [ZERO] * len(weeks) for child in children}
    field = _via("site", site_field)
    for row in rows:
        week = row["week"]
        week = week.date() if hasattr(week, "date") else week
        if row[field] in series:
            series[row[field]][index[week]] = Decimal(row["days"])
    return Weekly(weeks, {child.label: series[child.key] for child in children})


def fill_rate_chart(table: Table) -> dict:
    """The bar chart of the fill rate per row of a coverage table, in % (None: no need):
    `labels` (the rows' names) and `series` ({name: one value per label})."""
    return {
        "labels": [row["name"] for row in table.rows],
        "series": {
            gettext("Fill rate (%)"): [
                None if row["fill_rate"] is None else row["fill_rate"] * 100 for row in table.rows
            ]
        },
    }
