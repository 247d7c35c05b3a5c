"""The monthly summary (`monthly_summary`, the 1st at 07:00 Paris time, issue 11 § 8): last
month's headline figures of a region — coverage, follow-up of results, indemnities — emailed
to each ARS manager of the region, and France's to the national managers, with links to the
three dashboards and to the CSV exports of the three reports for that month and place.

One message per recipient, place and month: the dedupe key names the month and the place, so
a second run (or beat firing twice) writes nothing more. No patient data: counts, durations
and amounts only.

The figures come from one small function per report (`coverage_figures`,
`continuity_figures`, `indemnity_figures`), each taking the place and the month, with the
narrowest definitions that answer the field's questions:

- coverage: *needed* is the sum of the declared need (`days_wanted_per_month`) of the place's
  active sites; *booked* and *done* are the month's days in those statuses, a half-day 0.5;
  *fill rate* is (booked + done) / needed, none without a need;
- continuity: *exams overdue* (awaiting a result past its expected date) and *tasks overdue*
  (active past their deadline) as the summary is written; *median hours* from a result's
  receipt to the exam's closure, over the exams closed during the month;
- indemnities: the month's done days and their indemnities, and where each territory's
  statement of the month stands (a territory with done days and no statement yet is a draft).

Each function reads its report's own selector (`reports.coverage.place_totals`,
`reports.continuity.by_child`, `reports.indemnities.closed_days`), so "fill rate", "overdue"
and "median" mean exactly what the dashboards say.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Value,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from accounts.notifications import Message, notify_many
from accounts.roles import Role
from reports import continuity, coverage, indemnities
from reports.models import Statement
from reports.periods import Period
from reports.scope import Place
from sites.models import Membership, Region, Territory
from vacations.monthly import previous_month

KIND = "monthly_summary"
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=2))


@dataclass(frozen=True)
class Month:
    first: Date
    last: Date

    @classmethod
    def of(cls, day: Date) -> Month:
        first = day.replace(day=1)
        return cls(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))

    @property
    def code(self) -> str:
        return f"{self.first:%Y-%m}"


# --- The figures, one function per report ------------------------------------------------------


def coverage_figures(place: Place, month: Month) -> dict[str, object]:
    """Days needed, booked and done in the month, and the fill rate: the coverage report's
    own figures (`reports.coverage.place_totals`), the rate shown as a percentage."""
    row = coverage.place_totals(place, Period(month.first, month.last))
    rate = row["fill_rate"]
    return {
        "days_needed": row["days_needed"],
        "days_booked": row["days_booked"],
        "days_done": row["days_done"],
        "fill_rate": None if rate is None else round(rate * 100, 1),
    }


def continuity_figures(place: Place, month: Month, *, now: datetime) -> dict[str, object]:
    """Exams and tasks overdue now, median hours from result to closure over the exams closed
    in the month: the continuity report's own totals (`reports.continuity`)."""
    totals = continuity.by_child(place, Period(month.first, month.last), now=now).totals
    return {
        "exams_overdue": totals["exams_overdue"],
        "tasks_overdue": totals["tasks_overdue"],
        "median_hours": totals["median_hours_result_to_close"],
    }


def indemnity_figures(place: Place, month: Month) -> dict[str, object]:
    """The month's closed days and amount (`reports.indemnities`' own definition), and the
    territories' statements by status."""
    done = indemnities.closed_days(month.first).filter(site__in=place.sites)
    totals = indemnities.figures(done)
    statements = dict.fromkeys(Statement.Status.values, 0)
    rows = (
        Territory.objects.filter(pk__in=done.values("site__territory"))
        .annotate(statement=indemnities.statement_status(month.first, "pk"))
        .values("statement")
        .annotate(n=Count("pk"))
        .order_by()
    )
    statements.update({row["statement"]: row["n"] for row in rows})
    amount = Decimal(totals["amount"]).quantize(Decimal("0.01"))
    return {"days": totals["days"], "amount": amount, "statements": statements}


# --- The links ----------------------------------------------------------------------------------

# Page URL names and the paths they are expected at (issue 11 § 3): a dashboard not routed on
# this branch yet still gets its link. TODO(issue 11): drop the fallbacks once they all land.
DASHBOARDS = (
    ("coverage", "reports:coverage", "/pilotage/couverture/"),  # overview: /pilotage/
    ("continuity", "reports:continuity", "/pilotage/suivi/"),
    ("indemnities", "reports:indemnities", "/pilotage/indemnites/"),
)
EXPORTS = (
    ("coverage", "api-report-coverage", "/api/v1/reports/coverage/"),
    ("continuity", "api-report-continuity", "/api/v1/reports/continuity/"),
    ("indemnities", "api-report-indemnities", "/api/v1/reports/indemnities/"),
)


def _path(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def links(place: Place, month: Month) -> dict[str, object]:
    """The place's overview, the dashboards and the CSV exports of the month for the place
    (site-relative paths)."""
    period = {"from": month.first.isoformat(), "to": month.last.isoformat()}
    queries = {
        "coverage": {**place.params, **period},
        "continuity": {**place.params, **period},
        "indemnities": {"month": month.code, **place.params},
    }
    overview = _path("reports:overview", "/pilotage/")
    return {
        "overview": f"{overview}?{urlencode(place.params)}" if place.params else overview,
        "dashboards": {
            report: f"{_path(name, fallback)}?{urlencode(queries[report])}"
            for report, name, fallback in DASHBOARDS
        },
        "exports": {
            report: f"{_path(name, fallback)}?{urlencode({**queries[report], 'format': 'csv'})}"
            for report, name, fallback in EXPORTS
        },
    }


# --- The job ------------------------------------------------------------------------------------


def summary_context(place: Place, month: Month, *, now: datetime) -> dict[str, object]:
    """What a summary's templates read (`notifications/monthly_summary.*`)."""
    urls = links(place, month)
    return {
        "place": place.label,
        "month_start": month.first,
        "coverage": coverage_figures(place, month),
        "continuity": continuity_figures(place, month, now=now),
        "indemnities": indemnity_figures(place, month),
        **urls,
        "link": urls["overview"],
    }


def _recipients() -> tuple[dict[str, list[User]], list[User]]:
    """ARS managers by region code, and the national managers (active ones only)."""
    by_region: dict[str, list[User]] = {}
    memberships = (
        Membership.objects.filter(role=Role.ARS_MANAGER, user__is_active=True)
        .select_related("user")
        .order_by("region", "user")
    )
    for membership in memberships:
        by_region.setdefault(membership.region_id, []).append(membership.user)
    national = list(
        User.objects.filter(is_active=True, memberships__role=Role.NATIONAL_MANAGER).order_by("pk")
    )
    return by_region, national


@transaction.atomic
def send_monthly_summaries(*, now: datetime | None = None) -> int:
    """Write last month's summaries (delivery follows the commit); return how many were new."""
    now = now or timezone.now()
    month = Month.of(previous_month(timezone.localdate(now)))
    by_region, national = _recipients()
    messages = []
    regions = Region.objects.in_bulk(list(by_region))
    for code, users in by_region.items():
        # Any of the region's ARS managers pilots all of it: its place is the region's.
        place = Place(users[0], "region", region=regions[code])
        context = summary_context(place, month, now=now)
        messages.append(Message(users, KIND, context, f"summary:{month.code}:region-{code}"))
    if national:
        place = Place(national[0], "national")
        context = summary_context(place, month, now=now)
        messages.append(Message(national, KIND, context, f"summary:{month.code}:france"))
    return len(notify_many(messages))
