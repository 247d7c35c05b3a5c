"""Monthly indemnity statements: the days a volunteer completed in a month, and their total."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponse
from django.utils.translation import gettext as _

from sites.pdf import render_pdf
from vacations.models import Expense, Vacation, period_weight
from volunteers.models import Volunteer

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str | None) -> Date:
    """`YYYY-MM` → the first day of that month; ValueError with a message otherwise."""
    match = MONTH.match(value or "")
    if not match:
        raise ValueError(_("Give the month as YYYY-MM, e.g. 2027-03."))
    return Date(int(match[1]), int(match[2]), 1)


@dataclass(frozen=True)
class Statement:
    volunteer: Volunteer
    month: Date
    lines: list[Vacation]
    days: Decimal
    amount: Decimal
    consultations: int
    # Expenses of the month's done days, beside the indemnities (`vacations.expenses`).
    travel: Decimal = Decimal("0.00")
    accommodation: Decimal = Decimal("0.00")

    @property
    def expenses(self) -> Decimal:
        return self.travel + self.accommodation

    @property
    def total(self) -> Decimal:
        """Indemnities and expenses: what the volunteer is paid for the month."""
        return self.amount + self.expenses


def monthly_statement(volunteer: Volunteer, month: Date) -> Statement:
    """Done days of `month` (Paris calendar dates); totals are aggregated by the database."""
    done = Vacation.objects.filter(
        volunteer=volunteer,
        status=Vacation.Status.DONE,
        date__year=month.year,
        date__month=month.month,
    )
    weight = period_weight()
    totals = done.aggregate(
        days=Sum(weight), amount=Sum("indemnity"), consultations=Sum("consultations_count"),
        count=Count("pk"),
    )  # fmt: skip
    accommodation = Q(kind=Expense.Kind.ACCOMMODATION)
    spent = Expense.objects.filter(vacation__in=done).aggregate(
        travel=Sum("amount", filter=~accommodation),
        accommodation=Sum("amount", filter=accommodation),
    )
    lines = list(
        done.select_related("site")
        .prefetch_related(Prefetch("expenses", queryset=Expense.objects.order_by("kind", "pk")))
        .order_by("date", "starts_at")
    )
    return Statement(
        volunteer=volunteer,
        month=month,
        lines=lines,
        days=totals["days"] or Decimal("0"),
        amount=(totals["amount"] or Decimal("0")).quantize(Decimal("0.01")),
        consultations=totals["consultations"] or 0,
        travel=(spent["travel"] or Decimal("0")).quantize(Decimal("0.01")),
        accommodation=(spent["accommodation"] or Decimal("0")).quantize(Decimal("0.01")),
    )


def statement_pdf(statement: Statement, *, download: bool = False) -> HttpResponse:
    """The statement as a PDF (one template, for the API and the volunteer's page): shown in
    the browser, or saved as a file (`download`)."""
    pdf = render_pdf("vacations/pdf/statement.html", {"statement": statement})
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"releve-indemnites-{statement.month:%Y-%m}.pdf"
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response
