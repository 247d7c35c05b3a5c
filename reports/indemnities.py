"""What we owe (issue 11 § money): the indemnities of a month per volunteer, site and territory,
and where each territory's statement stands (`reports.models.Statement`).

One definition of every figure, for the page, the API, the CSV, the XLSX and the services:

- **a closed day** is a vacation in status `done`. A day becomes `done` only through
  `vacations.services.vacation_complete`, which continuity's `day_close` calls once the day's
  exams are listed and its handover written: `done` *is* closed. Its indemnity was fixed then
  (200 EUR a day, 100 a half-day: `Vacation.indemnity`) and is summed as stored;
- **days** weigh a half-day 0.5 (`vacations.models.period_weight()`);
- **the month** is the Paris calendar month of the day's date (dates are local dates);
- **the statement** of a day is the statement of that month of its site's territory; a
  statement nobody validated yet has no row and reads `draft`.

A volunteer who worked in two territories in the month has one row per territory: each
territory's statement is validated and paid on its own, and the payer needs to know which
payment a line belongs to.

Every figure is aggregated by the database, one `GROUP BY` per table, whatever the place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports.models import Statement
from reports.scope import Place
from reports.tables import Column, Table
from vacations.models import Expense, Vacation, period_weight

Status = Statement.Status
ZERO_DAYS = Decimal("0.0")
ZERO = Decimal("0.00")


def month_label(month: Date) -> str:
    return f"{month:%Y-%m}"


def next_month(month: Date) -> Date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- The one definition of what is owed ------------------------------------------------------


def statement_status(month: Date, territory: str = "site__territory") -> Coalesce:
    """The status of the statement of `month` of the territory at the field path `territory`;
    `draft` when it has no row yet."""
    status = (
        Statement.objects.filter(territory=OuterRef(territory), month=month)
        .order_by()  # one row at most (unique): no need for the model's ordering and its join
        .values("status")
    )
    return Coalesce(Subquery(status[:1]), Value(Status.DRAFT), output_field=CharField())


def closed_days(month: Date) -> QuerySet[Vacation]:
    """The closed (`done`) days of `month`, each annotated with its `statement_status`."""
    month = month.replace(day=1)
    return Vacation.objects.filter(
        status=Vacation.Status.DONE, date__gte=month, date__lt=next_month(month)
    ).annotate(statement_status=statement_status(month))


def _sum_days() -> Coalesce:
    return Coalesce(
        Sum(period_weight()),
        Value(ZERO_DAYS),
        output_field=DecimalField(max_digits=9, decimal_places=1),
    )


def _sum_amount(condition: Q | None = None) -> Coalesce:
    return Coalesce(
        Sum("indemnity", filter=condition),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def _day_expenses(accommodation: bool) -> Subquery:
    """What a day's volunteer spent on travel (or on accommodation), a subquery per day: summed
    per group by `_sum_expenses` without multiplying the days' indemnities by a join."""
    spent = Expense.objects.filter(vacation=OuterRef("pk"))
    kind = Q(kind=Expense.Kind.ACCOMMODATION)
    spent = spent.filter(kind) if accommodation else spent.exclude(kind)
    return Subquery(
        spent.order_by().values("vacation").annotate(total=Sum("amount")).values("total")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def _sum_expenses(accommodation: bool) -> Coalesce:
    return Coalesce(
        Sum(_day_expenses(accommodation)),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def expense_sums() -> dict:
    """The expenses of the volunteers' closed days (issue 13 § 5), beside their indemnities:
    `travel` (car and tickets) and `accommodation`, for `.aggregate()` or `.annotate()`."""
    return {"travel": _sum_expenses(False), "accommodation": _sum_expenses(True)}


def figures(days: QuerySet[Vacation]) -> dict:
    """`days`, `amount` and `volunteers` of a `closed_days` queryset, in one query."""
    return days.aggregate(
        days=_sum_days(), amount=_sum_amount(), volunteers=Count("volunteer", distinct=True)
    )


def territory_figures(territory_id: int, month: Date) -> tuple[Decimal, Decimal]:
    """What a territory's statement of `month` holds now: (days, amount)."""
    found = figures(closed_days(month).filter(site__territory_id=territory_id))
    return found["days"], found["amount"]


def days_url(month: Date, params: dict, **filters) -> str:
    """The list of the closed days a figure counts (`reports:indemnity_days`)."""
    query = {**params, "month": month_label(month), **{k: v for k, v in filters.items() if v}}
    return f"{reverse('reports:indemnity_days')}?{urlencode(query)}"


def page_url(month: Date, params: dict) -> str:
    return f"{reverse('reports:indemnities')}?{urlencode({**params, 'month': month_label(month)})}"


def headline(place: Place, month: Date) -> dict:
    """The overview's tiles for `month`, in one query: `amount`, what the place's closed days
    are owed; `statements_to_validate`, the territories of the place with closed days whose
    statement is still a draft (a statement covers its whole territory)."""
    return (
        closed_days(month)
        .filter(site__territory__in=place.territories)
        .aggregate(
            amount=_sum_amount(Q(site__in=place.sites)),
            statements_to_validate=Count(
                "site__territory", distinct=True, filter=Q(statement_status=Status.DRAFT)
            ),
        )
    )


# --- The place's children: regions, departments, territories or sites -------------------------

CHILD_COLUMNS = {
    "label": _("Place"),
    "days": _("Days"),
    "amount": _("Amount"),
    "amount_draft": _("To validate"),
    "amount_validated": _("Validated, to pay"),
    "amount_paid": _("Paid"),
    "volunteers": _("Volunteers"),
}
CHILD_KINDS = {"label": "text", "days": "decimal", "volunteers": "int"}


def children_table(place: Place, month: Date) -> Table:
    """One row per child of the place (those without any day too), two queries."""
    group = "site" if place.child_of_site == "pk" else f"site__{place.child_of_site}"
    found = {
        row[group]: row
        for row in closed_days(month)
        .filter(site__in=place.sites)
        .values(group)
        .annotate(
            days=_sum_days(),
            amount=_sum_amount(),
            amount_draft=_sum_amount(Q(statement_status=Status.DRAFT)),
            amount_validated=_sum_amount(Q(statement_status=Status.VALIDATED)),
            amount_paid=_sum_amount(Q(statement_status=Status.PAID)),
            volunteers=Count("volunteer", distinct=True),
        )
        .order_by()
    }
    empty = {"days": ZERO_DAYS, "volunteers": 0}
    rows = []
    for child in place.children():
        row = {**empty, **found.get(child.key, {})}
        rows.append(
            {
                "label": child.label,
                **{k: row.get(k, ZERO) for k in CHILD_COLUMNS if k != "label"},
                "url": page_url(month, child.params),
                "links": {
                    "days": days_url(month, child.params),
                    "amount": days_url(month, child.params),
                    "amount_draft": days_url(month, child.params, statement=Status.DRAFT),
                    "amount_validated": days_url(month, child.params, statement=Status.VALIDATED),
                    "amount_paid": days_url(month, child.params, statement=Status.PAID),
                    "volunteers": days_url(month, child.params),
                },
            }
        )
    columns = [Column(k, label, CHILD_KINDS.get(k, "money")) for k, label in CHILD_COLUMNS.items()]
    return Table("indemnities_by_place", columns, rows, meta={"month": month_label(month)})


STATUS_SERIES = ("amount_draft", "amount_validated", "amount_paid")


def amounts_chart(table: Table) -> dict:
    """The stacked bars of the month's amounts per place, a series per statement status: the
    arguments of `{% bar_chart title x_labels series unit="€" stacked=True %}`
    (reports.templatetags.charts), which draws the same numbers as its own data table."""
    rows = list(table.rows)
    return {
        "title": _("Amounts of the month per place, by statement status"),
        "x_labels": [row["label"] for row in rows],
        "series": {str(CHILD_COLUMNS[key]): [row[key] for row in rows] for key in STATUS_SERIES},
    }


# --- Per territory: the statements ------------------------------------------------------------


def territory_rows(place: Place, month: Date) -> QuerySet:
    """The territories of the place with closed days in `month`, with their figures and their
    statement's status, by name (the page paginates it). A statement covers its whole
    territory: on a site's page, its territory's figures (what a signature would certify)."""
    return (
        closed_days(month)
        .filter(site__territory__in=place.territories)
        .values("site__territory", "site__territory__name", "statement_status")
        .annotate(
            days=_sum_days(),
            amount=_sum_amount(),
            volunteers=Count("volunteer", distinct=True),
            sites=Count("site", distinct=True),
        )
        .order_by("site__territory__name", "site__territory")
    )


# --- Per volunteer: the API's rows, the payer's CSV -------------------------------------------

VOLUNTEER_COLUMNS = [
    Column("volunteer", _("Volunteer id"), "int", hidden=True),
    Column("name", _("Volunteer"), "text"),
    Column("rpps", _("RPPS number"), "text"),
    Column("territory", _("Territory id"), "int", hidden=True),
    Column("territory_name", _("Territory"), "text"),
    Column("days", _("Days"), "decimal"),
    Column("amount", _("Amount"), "money"),
    # Additive (issue 13 § 5): what the volunteer spent, paid with the same statement.
    Column("travel", _("Travel expenses"), "money"),
    Column("accommodation", _("Accommodation expenses"), "money"),
    Column("total", _("Total with expenses"), "money"),
    Column("status", _("Statement status code"), "text", hidden=True),
    Column("status_label", _("Statement"), "text"),
]


def volunteer_rows(place: Place, month: Date) -> QuerySet:
    """One aggregated row per volunteer and territory, by name then territory."""
    return (
        closed_days(month)
        .filter(site__in=place.sites)
        .values(
            "volunteer",
            "volunteer__user__first_name",
            "volunteer__user__last_name",
            "volunteer__user__email",
            "volunteer__rpps",
            "site__territory",
            "site__territory__name",
            "statement_status",
        )
        .annotate(days=_sum_days(), amount=_sum_amount(), **expense_sums())
        .order_by(
            "volunteer__user__last_name",
            "volunteer__user__first_name",
            "volunteer",
            "site__territory__name",
            "site__territory",
        )
    )


def volunteer_row(row: dict, place: Place, month: Date) -> dict:
    """A `volunteer_rows` row as the table's dict (with the link to its days)."""
    first, last = row["volunteer__user__first_name"], row["volunteer__user__last_name"]
    link = days_url(
        month,
        {**place.params, "territory": str(row["site__territory"])},
        volunteer=str(row["volunteer"]),
    )
    return {
        "volunteer": row["volunteer"],
        "name": f"{first} {last}".strip() or row["volunteer__user__email"],
        "rpps": row["volunteer__rpps"],
        "territory": row["site__territory"],
        "territory_name": row["site__territory__name"],
        "days": row["days"],
        "amount": row["amount"],
        "travel": row["travel"],
        "accommodation": row["accommodation"],
        "total": row["amount"] + row["travel"] + row["accommodation"],
        "status": row["statement_status"],
        "status_label": str(Status(row["statement_status"]).label),
        "links": {"days": link, "amount": link},
    }


def volunteer_table(place: Place, month: Date, rows=None) -> Table:
    """Per volunteer and territory, with the totals of the place. `rows`: the rows to show
    (a page of `volunteer_rows`); all of them, streamed, by default (the exports)."""
    if rows is None:
        rows = volunteer_rows(place, month).iterator(chunk_size=2000)

    def table_rows() -> Iterator[dict]:
        for row in rows:
            yield volunteer_row(row, place, month)

    totals = (
        closed_days(month)
        .filter(site__in=place.sites)
        .aggregate(days=_sum_days(), amount=_sum_amount(), **expense_sums())
    )
    return Table(
        "indemnities",
        VOLUNTEER_COLUMNS,
        table_rows(),
        totals={
            "days": totals["days"],
            "amount": totals["amount"],
            "travel": totals["travel"],
            "accommodation": totals["accommodation"],
            "total": totals["amount"] + totals["travel"] + totals["accommodation"],
        },
        meta={"month": month_label(month)},
    )


# --- A volunteer's own month ---------------------------------------------------------------------


def volunteer_standing(volunteer_id: int, month: Date) -> list[dict]:
    """Where a volunteer's closed days of `month` stand, per territory it worked in (each
    territory's statement is validated and paid on its own): `territory`, `territory_name`,
    `days`, `amount` and `statement` (its row, or an unsaved draft). Two queries."""
    month = month.replace(day=1)
    rows = list(
        closed_days(month)
        .filter(volunteer_id=volunteer_id)
        .values("site__territory", "site__territory__name")
        .annotate(days=_sum_days(), amount=_sum_amount())
        .order_by("site__territory__name", "site__territory")
    )
    ids = [row["site__territory"] for row in rows]
    found = {s.territory_id: s for s in Statement.objects.filter(territory__in=ids, month=month)}
    return [
        {
            "territory": row["site__territory"],
            "territory_name": row["site__territory__name"],
            "days": row["days"],
            "amount": row["amount"],
            "statement": found.get(row["site__territory"])
            or Statement(territory_id=row["site__territory"], month=month),
        }
        for row in rows
    ]
