"""`/pilotage/suivi/`: is every result followed up, from France down to a site (issue 11 § 3)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from reports import continuity as selector
from reports.api import ReportView, report_schema
from reports.periods import api_errors
from reports.scope import LEVEL_LABELS, Place
from reports.tables import Table
from reports.views.common import dashboard_context


@login_required
@require_safe
def continuity(request: HttpRequest) -> HttpResponse:
    """The place's children as rows (each opens the level below), each figure a link to the
    list it counts; the ageing of open tasks as stacked bars; the exports per site."""
    form = selector.ContinuityPeriodForm(request.GET)
    period = form.period_value()
    period_query = urlencode({"from": period.start, "to": period.end})
    place, context = dashboard_context(request, "continuity", extra_query=period_query)
    table = selector.by_child(place, period, page_url=reverse("reports:continuity"))
    context.update(
        {
            "form": form,
            "period": period,
            "table": table,
            "caption": _("Follow-up of results by %(level)s")
            % {"level": str(LEVEL_LABELS[place.child_level]).lower()},
            "ageing": selector.ageing_chart(table),
        }
    )
    return render(request, "reports/continuity.html", context)


class ContinuityReport(ReportView):
    """`GET /api/v1/reports/continuity/` (API.md § Reports): a row per site of the place,
    `?from=&to=` (closures and the median; default the last 4 weeks), `?format=csv|xlsx`."""

    name = "continuity"

    @report_schema(
        "continuity",
        selector.API_COLUMNS,
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day of closures."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of closures."),
            OpenApiParameter("period", str, enum=["last4", "last12"]),
        ],
    )
    def get(self, request):
        return super().get(request)

    def table(self, request, place: Place) -> Table:
        form = selector.ContinuityPeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(api_errors(form))
        return selector.by_site(place, form.period_value())
