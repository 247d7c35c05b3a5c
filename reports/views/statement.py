"""`/volontaire/releve/`: a volunteer's monthly statement in the app — the days it closed in a
month, their amounts and total (`vacations.statements.monthly_statement`, the API's service),
where each territory's statement stands (draft, validated, paid: `reports.indemnities`), and
the same PDF as the API's, to download.

Only one's own statement: a user without a volunteer profile gets 404, as from the API.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from reports import indemnities
from reports.periods import MonthForm
from vacations.statements import Statement, monthly_statement, statement_pdf
from volunteers.models import Volunteer


def _own_statement(request: HttpRequest) -> tuple[Statement, MonthForm]:
    """The caller's statement of the month asked for (`?month=YYYY-MM`, last month by
    default; a bad month is the form's error and the default month is shown)."""
    volunteer = Volunteer.objects.filter(user=request.user).select_related("user").first()
    if volunteer is None:
        raise Http404
    form = MonthForm(request.GET)
    return monthly_statement(volunteer, form.month_value()), form


def _month_url(name: str, month: Date) -> str:
    return f"{reverse(name)}?{urlencode({'month': indemnities.month_label(month)})}"


@login_required
@require_safe
def my_statement(request: HttpRequest) -> HttpResponse:
    statement, form = _own_statement(request)
    month = statement.month
    this_month = timezone.localdate().replace(day=1)
    standing = indemnities.volunteer_standing(statement.volunteer.pk, month)
    by_territory = {row["territory"]: row["statement"] for row in standing}
    lines = [
        {"day": day, "statement": by_territory.get(day.site.territory_id)}
        for day in statement.lines
    ]
    previous = (month - timedelta(days=1)).replace(day=1)
    following = indemnities.next_month(month)
    context = {
        "statement": statement,
        "lines": lines,
        "standing": standing,
        "form": form,
        "month": month,
        "month_value": indemnities.month_label(month),
        "max_month": indemnities.month_label(this_month),
        "previous_url": _month_url("reports:my_statement", previous),
        "previous_month": previous,
        "next_url": _month_url("reports:my_statement", following)
        if following <= this_month
        else None,
        "next_month": following,
        "pdf_url": _month_url("reports:my_statement_pdf", month),
        "section": "statement",
    }
    return render(request, "reports/my_statement.html", context)


@login_required
@require_safe
def my_statement_pdf(request: HttpRequest) -> HttpResponse:
    """The API's PDF of the month, saved as a file (a bad month: 400 saying why)."""
    statement, form = _own_statement(request)
    if form.errors:
        return HttpResponseBadRequest(" ".join(form.errors["month"]))
    return statement_pdf(statement, download=True)
