"""The pilots' overview (`/pilotage/`): headline tiles of every topic and the map."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from reports import continuity, coverage, indemnities, readiness
from reports.periods import MonthForm
from reports.tables import display
from reports.views.common import dashboard_context


def coverage_tiles(place, head: coverage.Headline) -> list[dict]:
    """The coverage tiles: the next four weeks' need against the days covered, the fill
    rate, the red priority territories; each opens what it counts."""
    query = "&".join(q for q in (place.query, coverage.period_query(head.period)) if q)
    page = f"{reverse('reports:coverage')}?{query}"
    return [
        {
            "name": "days_needed",
            "label": _("Days needed in the next 4 weeks"),
            "value": display(head.days_needed, "decimal"),
            "url": page,
        },
        {
            "name": "days_covered",
            "label": _("Days booked or done in the next 4 weeks"),
            "value": display(head.days_covered, "decimal"),
            "url": coverage.days_url(place.params, head.period, coverage.COVERED),
        },
        {
            "name": "fill_rate",
            "label": _("Fill rate in the next 4 weeks"),
            "value": display(head.fill_rate, "percent"),
            "url": page,
        },
        {
            "name": "red_territories",
            "label": _("Priority territories in red"),
            "value": display(len(head.red), "int"),
            "url": f"{page}#red-lists",
            "alert": len(head.red) > 0,
        },
    ]


def readiness_tiles(place) -> list[dict]:
    """Readiness: sheets awaiting validation, sites not ready, volunteers awaiting verification
    (the readiness table's totals), each opening its list."""
    totals = readiness.totals(place)
    links = readiness.figure_links(place.params, site_level=place.level == "site")
    page = f"{reverse('reports:readiness')}?{place.query}"
    labels = {
        "sheets_to_validate": _("Sheets awaiting validation"),
        "sites_not_ready": _("Sites not ready"),
        "volunteers_pending": _("Volunteers awaiting verification"),
    }
    return [
        {
            "name": key,
            "label": label,
            "value": display(totals[key], "int"),
            "url": links.get(key, f"{page}#volunteers"),
        }
        for key, label in labels.items()
    ]


def continuity_tiles(place) -> list[dict]:
    """Follow-up of results, now: exams overdue, tasks overdue, results in quarantine."""
    head = continuity.headline(place)
    narrowest = {} if place.level == "national" else {place.level: place.params[place.level]}
    links = continuity.figure_links(narrowest, continuity.last_weeks(timezone.localdate()))
    labels = {
        "exams_overdue": _("Exams overdue"),
        "tasks_overdue": _("Follow-up tasks overdue"),
        "results_in_quarantine": _("Results in quarantine"),
    }
    return [
        {
            "name": key,
            "label": label,
            "value": display(head[key], "int"),
            "url": links[key],
            "alert": head[key] > 0 and key != "results_in_quarantine",
        }
        for key, label in labels.items()
    ]


def indemnity_tiles(place) -> list[dict]:
    """Money, last month: the amount owed and the statements not validated yet."""
    month = MonthForm().month_value()
    head = indemnities.headline(place, month)
    page = indemnities.page_url(month, place.params)
    return [
        {
            "name": "indemnities_amount",
            "label": _("Indemnities of last month"),
            "value": display(head["amount"], "money"),
            "url": page,
        },
        {
            "name": "statements_to_validate",
            "label": _("Statements of last month not validated"),
            "value": display(head["statements_to_validate"], "int"),
            "url": f"{page}#statements",
        },
    ]


def _map_links(place, priority: coverage.PriorityMap) -> dict[str, str]:
    """Where a department of the map leads: France → its region's overview (drill into the
    region); a region → the department's coverage (its territories)."""
    if place.level == "national":
        base = reverse("reports:overview")
        return {code: f"{base}?region={region}" for code, region in priority.region_of.items()}
    base = reverse("reports:coverage")
    return {code: f"{base}?department={code}" for code in priority.departments}


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    place, context = dashboard_context(request, "overview")
    head = coverage.headline(place)
    context["tiles"] = coverage_tiles(place, head)
    context["topic_tiles"] = [
        *readiness_tiles(place),
        *continuity_tiles(place),
        *indemnity_tiles(place),
    ]
    context["red"] = head.red
    if place.level in ("national", "region"):
        priority = coverage.priority_map(place)
        context["map"] = priority
        context["map_links"] = _map_links(place, priority)
        context["map_region"] = place.region.pk if place.region is not None else None
        context["map_sites"], context["map_sites_cut"] = readiness.map_sites(place)
        context["map_sites_limit"] = readiness.MAP_SITES
    return render(request, "reports/overview.html", context)
