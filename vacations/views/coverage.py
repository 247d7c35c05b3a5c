"""The managers' coverage grid: sites × weeks."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.permissions import require
from sites.models import HostSite
from vacations import selectors
from vacations.forms import (
    CoverageForm,
)
from vacations.views.common import (
    local_today,
)

# --- Coverage for managers ------------------------------------------------------------------

COVERAGE_PAGE_SIZE = 20


@login_required
@require_safe
def coverage(request: HttpRequest) -> HttpResponse:
    """Days open / requested or booked / done per site and week, for the sites one manages."""
    user = request.user
    require(user, "sites.pilot")
    form = CoverageForm(request.GET or None)
    start, weeks = form.values(today=local_today())
    start = selectors.week_start(start)
    if not form.is_bound:
        form.initial = {"debut": start, "semaines": weeks}
    sites = (
        HostSite.objects.piloted_by(user)
        .select_related("territory")
        .order_by("territory__name", "name", "pk")
    )
    page = Paginator(sites, COVERAGE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.coverage(user, list(page.object_list), start=start, weeks=weeks)
    context = {
        "form": form,
        "page_obj": page,
        "rows": rows,
        "weeks": [cell.week for cell in rows[0].cells] if rows else [],
        "start": start,
        "weeks_count": weeks,
        "previous_start": start - timedelta(weeks=weeks),
        "next_start": start + timedelta(weeks=weeks),
    }
    return render(request, "vacations/coverage.html", context)
