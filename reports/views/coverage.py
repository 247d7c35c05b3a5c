"""Coverage pages (`/pilotage/couverture/`, its list of days) and its API
(`/api/v1/reports/coverage/`): all read `reports.coverage`."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from reports import coverage as selectors
from reports.api import ReportView, report_schema
from reports.periods import Period, PeriodForm, api_errors
from reports.scope import Place
from reports.tables import Table
from reports.views.common import dashboard_context
from vacations.models import Vacation, period_weight

DAYS_PAGE_SIZE = 50


def _period(request: HttpRequest) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET)
    return form, form.period_value()


def _period_context(form: PeriodForm, period: Period) -> dict:
    """The period picker: which choice is on, the dates it shows."""
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("start") or data.get("end"):
        choice = "dates"
    else:
        choice = data.get("period") or "next4"
    return {"period_form": form, "period": period, "period_choice": choice}


@login_required
@require_safe
def coverage(request: HttpRequest) -> HttpResponse:
    """The place's coverage over a period, the red priority territories first."""
    form, period = _period(request)
    place, context = dashboard_context(
        request, "coverage", extra_query=selectors.period_query(period)
    )
    red = selectors.red_lists(place, query=selectors.period_query(period))
    children = place.children()
    table = selectors.coverage_table(place, period, red=red, children=children)
    context.update(_period_context(form, period))
    context["table"] = table
    context["red"] = red
    # The charts' data (the line and bar charts, wired once the chart tags land).
    context["weekly"] = selectors.weekly_days(place, period, children=children)
    context["fill_rates"] = selectors.fill_rate_chart(table)
    if place.level == "site":
        context["days_page"] = Paginator(
            _days(place, period, statuses=()), DAYS_PAGE_SIZE
        ).get_page(request.GET.get("page"))
    return render(request, "reports/coverage.html", context)


# --- The days a figure counts -----------------------------------------------------------------


class DaysFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        choices=Vacation.Status.choices,
        widget=forms.CheckboxSelectMultiple,
    )


def _days(place: Place, period: Period, *, statuses):
    days = Vacation.objects.filter(
        site__in=place.sites, date__gte=period.start, date__lte=period.end
    )
    if statuses:
        days = days.filter(status__in=statuses)
    return days.select_related("site__territory", "volunteer__user").order_by(
        "date", "starts_at", "site__name", "pk"
    )


@login_required
@require_safe
def coverage_days(request: HttpRequest) -> HttpResponse:
    """The days behind a coverage figure: the place's days of the period, of the statuses asked
    (all without any), and their sum as the figure counts them (a half-day 0.5)."""
    period_form, period = _period(request)
    place, context = dashboard_context(
        request, "coverage", extra_query=selectors.period_query(period)
    )
    filters = DaysFilterForm(request.GET)
    statuses = filters.cleaned_data["status"] if filters.is_valid() else []
    days = _days(place, period, statuses=statuses)
    total = days.aggregate(days=Sum(period_weight()))["days"] or 0
    context.update(_period_context(period_form, period))
    context.update(
        {
            "filters": filters,
            "statuses": [Vacation.Status(s).label for s in statuses],
            "total": total,
            "days_page": Paginator(days, DAYS_PAGE_SIZE).get_page(request.GET.get("page")),
            "exports": [],
        }
    )
    return render(request, "reports/coverage_days.html", context)


# --- The API ----------------------------------------------------------------------------------


class CoverageReport(ReportView):
    """Coverage per territory of the place over `from`–`to` (API.md § Reports)."""

    name = "coverage"

    def table(self, request, place: Place) -> Table:
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(api_errors(form))
        return selectors.coverage_table(place, form.period_value(), by="territory")

    @report_schema(
        "coverage",
        selectors.API_COLUMNS,
        parameters=[
            OpenApiParameter("from", str, description="First day (YYYY-MM-DD, inclusive)."),
            OpenApiParameter("to", str, description="Last day (YYYY-MM-DD, inclusive)."),
            OpenApiParameter("period", str, enum=["next4", "last12"]),
        ],
    )
    def get(self, request):
        return super().get(request)
