"""Continuity of care on the dashboards (issue 11 § 3, API.md § Reports): is every result
followed up?

One selector for the page (rows per child of the place: regions, departments, territories or
sites), the API and its CSV / XLSX (rows per site, API.md). Every figure reuses continuity's own
definition (`continuity.models`), so the dashboard counts exactly what the list behind it shows:

- `exams_awaiting`: exams still awaiting their result (now);
- `exams_overdue`: awaiting after their expected date, `PendingExam.overdue_q` (the exam
  tracker's "Overdue", what the `overdue_exams` job chases);
- `tasks_open`: active follow-up tasks (to do, in progress, waiting for the prescriber), now;
- `tasks_overdue`: active past their deadline, `FollowUpTask.overdue_q` (what the
  `escalate_tasks` job moves up one level);
- `tasks_escalated_<n>`: active tasks now at escalation level n (1 territory manager, 2 ARS:
  one column per level above the nurse's, `FollowUpTask.Level`);
- `tasks_age_*`: active tasks by age since the task was created — for a result's review task,
  since the result arrived; for a chase, since the exam became overdue; for a quarantined
  message, since it was quarantined — in half-open buckets [0, 1 day), [1, 3), [3, 7),
  7 days or more (`TaskAge`, `FollowUpTask.age_q`); they add up to `tasks_open`;
- `results_in_quarantine`: incoming results quarantined and not yet resolved
  (`IncomingResult.quarantined_q`) filed at the place's sites. Every message is filed at a site
  (ingestion refuses a sender without one; a match or a quarantine routes it to the exam's or
  the sender's site), so one without a site can only be a fault: no list shows it to anyone
  and it is counted nowhere, not even at the national level (the admin shows it);
- `exams_closed`: exams closed on a (Paris) day of the period (`PendingExam.closed_between_q`);
- `exams_closed_leg_missing`: among them, those with a leg still pending (DMP, patient's
  space, prescriber, the liaison letter to the treating doctor: `PendingExam.leg_missing_q`,
  the rule in `continuity.models.ExamLeg`);
- `exams_leg_pending`: the nurse's queue now, whatever the closing date: closed exams with a
  leg still pending (`PendingExam.leg_missing_q`, the tracker's "Closed, a leg pending");
- `median_hours_result_to_close`: the median of the hours from the result's arrival
  (`received_at`) to the closure (`closed_at`) of the exams closed in the period, to a tenth
  of an hour; none without any such exam. PostgreSQL: `percentile_cont(0.5)`; SQLite: the
  middle row(s) of a window per group (`ROW_NUMBER`/`COUNT` over the group), averaged — both
  in the database, one query for the rows and one for the total (a median of the whole place,
  never a median of medians).

Backlog figures (exams, tasks, quarantine) are "now"; the period (`from`/`to`, default the last
28 days up to today) filters the closures and the median. The same queries run whatever the
size of the place: one per figure family, each a `GROUP BY` of the child (or site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django import forms
from django.db import NotSupportedError, connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from config.querying import counts
from continuity.models import FollowUpTask, IncomingResult, PendingExam, TaskAge
from reports.periods import DEFAULT_DAYS, Period, PeriodForm
from reports.scope import LEVEL_LABELS, Place
from reports.tables import Column, Table

# --- The period -------------------------------------------------------------------------------


def last_weeks(today) -> Period:
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


class ContinuityPeriodForm(PeriodForm):
    """Closures are in the past: by default the last 4 weeks up to today (`period=last12`: the
    twelve months up to today; `from` alone: 28 days from it; `to` alone: 28 days up to it)."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["period"].choices = [
            ("last4", _("Last 4 weeks")),
            ("last12", _("Last 12 months")),
        ]
        self.fields["period"].widget.attrs["class"] = "fr-select"
        for name in ("start", "end"):
            self.fields[name].widget = forms.DateInput(
                attrs={"type": "date", "class": "fr-input"}, format="%Y-%m-%d"
            )

    def period_value(self, today=None) -> Period:
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if not (data.get("start") or data.get("end")) and data.get("period") != "last12":
            return last_weeks(today)
        return super().period_value(today)


# --- Database expressions ---------------------------------------------------------------------


class HoursBetween(Func):
    """Hours (a float) from `start` to `end`, two datetimes."""

    output_field = FloatField()

    def __init__(self, start, end):
        super().__init__(start, end)

    def _parts(self, compiler, connection):
        start_sql, start_params = compiler.compile(self.source_expressions[0])
        end_sql, end_params = compiler.compile(self.source_expressions[1])
        return start_sql, end_sql, [*end_params, *start_params]

    def as_postgresql(self, compiler, connection, **extra):
        start, end, params = self._parts(compiler, connection)
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)", params

    def as_sqlite(self, compiler, connection, **extra):
        start, end, params = self._parts(compiler, connection)
        return f"((julianday({end}) - julianday({start})) * 24.0)", params

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - other databases
        raise NotSupportedError("HoursBetween: PostgreSQL or SQLite only")


class Median(Aggregate):
    """The median of a number: `percentile_cont(0.5)` (PostgreSQL's ordered-set aggregate)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        if connection.vendor != "postgresql":
            raise NotSupportedError("Median: PostgreSQL only (see `medians` for SQLite)")
        return super().as_sql(compiler, connection, **extra)


def _tenth(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def medians(exams: QuerySet, hours, group: str | None) -> dict:
    """{group value: median of `hours`} over `exams` (one query); `group=None`: {None: the
    median of them all}. Groups without any exam are absent."""
    exams = exams.order_by()
    if connection.vendor == "postgresql":
        if group is None:
            return {None: _tenth(exams.aggregate(median=Median(hours))["median"])}
        rows = exams.values(grp=F(group)).annotate(median=Median(hours))
        return {row["grp"]: _tenth(row["median"]) for row in rows}
    # SQLite: rank the hours within each group, keep the middle one (odd count) or two (even
    # count) and average them, grouped again — in one statement over the ORM's own query.
    partition = [F(group)] if group else None
    inner = exams.annotate(grp=F(group) if group else Value(None, IntegerField()), hours=hours)
    inner = inner.annotate(
        rn=Window(RowNumber(), partition_by=partition, order_by=[F("hours").asc(), F("pk").asc()]),
        cnt=Window(Count("pk"), partition_by=partition),
    )
    sql, params = inner.values("grp", "hours", "rn", "cnt").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.grp, AVG(m.hours) FROM (" + sql + ") m "  # noqa: S608 - the ORM's SQL
            "WHERE m.rn IN ((m.cnt + 1) / 2, (m.cnt + 2) / 2) GROUP BY m.grp",
            params,
        )
        return {grp: _tenth(median) for grp, median in cursor.fetchall()}


# --- The columns ------------------------------------------------------------------------------

ESCALATION_LEVELS = [level for level in FollowUpTask.Level if level > 0]
AGE_KEYS = {bucket: f"tasks_age_{bucket}" for bucket in TaskAge.values}
AGE_LABELS = {
    TaskAge.UNDER_1_DAY: _("Open for less than 1 day"),
    TaskAge.DAYS_1_3: _("Open for 1 to 3 days"),
    TaskAge.DAYS_3_7: _("Open for 3 to 7 days"),
    TaskAge.OVER_7_DAYS: _("Open for 7 days or more"),
}

FIGURES: list[Column] = [
    Column("exams_awaiting", _("Exams awaiting a result")),
    Column("exams_overdue", _("Exams overdue")),
    Column("tasks_open", _("Open tasks")),
    Column("tasks_overdue", _("Overdue tasks")),
    *(
        Column(
            f"tasks_escalated_{level.value}",
            format_lazy(_("Tasks escalated to: {level}"), level=level.label),
        )
        for level in ESCALATION_LEVELS
    ),
    *(Column(AGE_KEYS[bucket.value], AGE_LABELS[bucket]) for bucket in TaskAge),
    Column("results_in_quarantine", _("Results in quarantine")),
    Column("exams_closed", _("Exams closed in the period")),
    Column("exams_closed_leg_missing", _("Closed with a leg pending")),
    Column("exams_leg_pending", _("Closed exams with a leg pending, now")),
    Column("median_hours_result_to_close", _("Median hours from result to closure"), "decimal"),
]
SITE_COLUMNS: list[Column] = [
    Column("site_id", _("Site number"), "int"),  # an integer, as everywhere in the API
    Column("site", _("Host site"), "text"),
    Column("territory", _("Territory"), "text"),
    Column("department", _("Department"), "text"),
    Column("region", _("Region"), "text"),
]
# For the OpenAPI schema (the API's rows are per site).
API_COLUMNS = [*SITE_COLUMNS, *FIGURES]


def child_columns(place: Place) -> list[Column]:
    return [
        Column("id", _("Code"), "id", hidden=True),
        Column("name", LEVEL_LABELS[place.child_level], "text"),
        *FIGURES,
    ]


# --- The figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Each figure family grouped by one value (a child's key or a site's pk)."""

    exams: dict
    tasks: dict
    quarantine: dict
    medians: dict
    median_total: Decimal | None

    def row(self, key) -> dict:
        row = {column.key: 0 for column in FIGURES}
        row.update(self.exams.get(key, {}))
        row.update(self.tasks.get(key, {}))
        row["results_in_quarantine"] = self.quarantine.get(key, 0)
        row["median_hours_result_to_close"] = self.medians.get(key)
        return row


def _by(rows, group_alias: str = "grp") -> dict:
    return {row.pop(group_alias): row for row in rows}


def figures(place: Place, period: Period, group: str, *, now: datetime) -> Figures:
    """Five queries whatever the size of the place: exams, tasks, quarantine, medians, median of
    the whole place. `group` is the field from a host site naming a row ("pk": the site)."""
    today = timezone.localdate(now)
    path = "site" if group == "pk" else f"site__{group}"
    sites = place.sites.values("pk")
    exams = PendingExam.objects.filter(site__in=sites).order_by()
    closed = PendingExam.closed_between_q(period.start, period.end)
    # Only the exams some figure counts (awaiting, closed in the period, a leg pending): each
    # branch read through an index, not the place's million exams (issue 14, national scale).
    counted = Q(status=PendingExam.Status.AWAITING) | closed | PendingExam.leg_missing_q()
    exam_rows = (
        exams.filter(counted)
        .values(grp=F(path))
        .annotate(
            exams_awaiting=Count("pk", filter=Q(status=PendingExam.Status.AWAITING)),
            exams_overdue=Count("pk", filter=PendingExam.overdue_q(today)),
            exams_closed=Count("pk", filter=closed),
            exams_closed_leg_missing=Count("pk", filter=closed & PendingExam.leg_missing_q()),
            exams_leg_pending=Count("pk", filter=PendingExam.leg_missing_q()),
        )
    )
    tasks = FollowUpTask.objects.filter(site__in=sites).active().order_by()
    task_rows = tasks.values(grp=F(path)).annotate(
        tasks_open=Count("pk"),
        tasks_overdue=Count("pk", filter=FollowUpTask.overdue_q(now)),
        **{
            f"tasks_escalated_{level.value}": Count("pk", filter=Q(escalation_level=level))
            for level in ESCALATION_LEVELS
        },
        **{
            AGE_KEYS[bucket]: Count("pk", filter=FollowUpTask.age_q(bucket, now))
            for bucket in TaskAge.values
        },
    )
    quarantine = (
        IncomingResult.objects.filter(IncomingResult.quarantined_q(), site__in=sites)
        .order_by()
        .values(grp=F(path))
        .annotate(n=Count("pk"))
    )
    timed = exams.filter(closed, received_at__isnull=False)
    hours = HoursBetween("received_at", "closed_at")
    return Figures(
        exams=_by(exam_rows),
        tasks=_by(task_rows),
        quarantine={row["grp"]: row["n"] for row in quarantine},
        medians=medians(timed, hours, path),
        median_total=medians(timed, hours, None).get(None),
    )


HEADLINE = ("exams_overdue", "tasks_overdue", "results_in_quarantine")


def headline(place: Place, *, now: datetime | None = None) -> dict[str, int]:
    """The place's backlog now (the overview's tiles): exams overdue, tasks overdue, results in
    quarantine — the definitions of `figures`, without the rows: one query."""
    now = now or timezone.now()
    sites = place.sites.values("pk")
    exams = PendingExam.objects.filter(site__in=sites).order_by()
    tasks = FollowUpTask.objects.filter(site__in=sites).active().order_by()
    quarantine = IncomingResult.objects.filter(IncomingResult.quarantined_q(), site__in=sites)
    return counts(
        exams_overdue=exams.filter(PendingExam.overdue_q(timezone.localdate(now))),
        tasks_overdue=tasks.filter(FollowUpTask.overdue_q(now)),
        results_in_quarantine=quarantine,
    )


def figure_links(params: dict, period: Period) -> dict[str, str]:
    """The list behind each figure of the place named by `params` (`place.params`)."""
    return _links(params, period)


def _totals(rows: list[dict], median: Decimal | None) -> dict:
    totals = {
        column.key: sum(row[column.key] for row in rows)
        for column in FIGURES
        if column.kind == "int"
    }
    totals["median_hours_result_to_close"] = median
    return totals


def _links(params: dict, period: Period) -> dict[str, str]:
    """The list behind each figure, narrowed to the row's place (within the reader's scope)."""
    exams, worklist = reverse("continuity_exams"), reverse("continuity_worklist")
    quarantine = reverse("continuity_quarantine")

    def url(base: str, **query) -> str:
        return f"{base}?{urlencode({**query, **params})}"

    closed = {"view": "closed", "closed_from": period.start, "closed_to": period.end}
    return {
        "exams_awaiting": url(exams, view="awaiting"),
        "exams_overdue": url(exams, view="overdue"),
        "tasks_open": url(worklist),
        "tasks_overdue": url(worklist, overdue="on"),
        **{
            f"tasks_escalated_{level.value}": url(worklist, level=level.value)
            for level in ESCALATION_LEVELS
        },
        **{AGE_KEYS[bucket]: url(worklist, age=bucket) for bucket in TaskAge.values},
        "results_in_quarantine": url(quarantine),
        "exams_closed": url(exams, **closed),
        "exams_closed_leg_missing": url(exams, **closed, leg_missing="on"),
        "exams_leg_pending": url(exams, view="leg_pending"),
        "median_hours_result_to_close": url(exams, **closed),
    }


def _meta(period: Period) -> dict:
    return {"from": period.start, "to": period.end}


def by_child(place: Place, period: Period, *, now: datetime | None = None, page_url="") -> Table:
    """The page's table: a row per child of the place (each a link down the drill-down, each
    figure a link to the list it counts), and the totals."""
    now = now or timezone.now()
    children = place.children()
    found = figures(place, period, place.child_of_site, now=now)
    period_query = urlencode(_meta(period))
    rows = []
    for child in children:
        row = {"id": child.key, "name": child.label, **found.row(child.key)}
        if place.level != "site":
            row["url"] = f"{page_url}?{child.query}&{period_query}"
        row["links"] = _links({place.child_level: child.key}, period)
        rows.append(row)
    return Table(
        "continuity",
        child_columns(place),
        rows,
        _totals(rows, found.median_total),
        _meta(period),
    )


def by_site(place: Place, period: Period, *, now: datetime | None = None) -> Table:
    """The API's and exports' table: a row per site of the place (API.md: rows per site)."""
    now = now or timezone.now()
    sites = list(place.sites.select_related("territory__department__region").order_by("name", "pk"))
    found = figures(place, period, "pk", now=now)
    rows = [
        {
            "site_id": site.pk,
            "site": site.name,
            "territory": site.territory.name,
            "department": str(site.territory.department),
            "region": site.territory.department.region.name,
            **found.row(site.pk),
        }
        for site in sites
    ]
    return Table("continuity", API_COLUMNS, rows, _totals(rows, found.median_total), _meta(period))


def ageing_chart(table: Table) -> dict:
    """The stacked bars of the open tasks' ageing, one bar per row, one series per bucket: the
    arguments of `{% bar_chart title x_labels series stacked=True %}` (reports.templatetags
    .charts), which draws the same numbers as its own data table."""
    rows = list(table.rows)
    return {
        "title": _("Ageing of open tasks"),
        "x_labels": [row["name"] for row in rows],
        "series": {
            str(AGE_LABELS[bucket]): [row[AGE_KEYS[bucket.value]] for row in rows]
            for bucket in TaskAge
        },
    }
