"""What every dashboard page shares: the pilot's permission, the place (404 outside the
scope), breadcrumbs, the topics' tabs and the export links (the API's own downloads)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import require
from reports.scope import Place, place_for

# (topic, tab label, page url name, API url name of its export or None)
TOPICS = (
    ("overview", _("Overview"), "reports:overview", None),
    ("coverage", _("Coverage"), "reports:coverage", "api-report-coverage"),
    ("readiness", _("Readiness"), "reports:readiness", None),
    ("continuity", _("Follow-up of results"), "reports:continuity", "api-report-continuity"),
    ("indemnities", _("Indemnities"), "reports:indemnities", "api-report-indemnities"),
)


def dashboard_context(
    request: HttpRequest, topic: str, *, extra_query: str = ""
) -> tuple[Place, dict[str, Any]]:
    """The place asked for and the context every dashboard template expects.

    `extra_query` (e.g. `from=…&to=…`) is carried by the export links and the drill-down."""
    require(request.user, "sites.pilot")
    place = place_for(request.user, request.GET)
    query = "&".join(q for q in (place.query, extra_query) if q)
    tabs = []
    for name, label, url_name, _api in TOPICS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # a topic whose page is not there (yet): no tab
            continue
        tabs.append(
            {
                "name": name,
                "label": label,
                "url": f"{url}?{place.query}" if place.query else url,
                "current": name == topic,
            }
        )
    exports = []
    api = next(api for name, _l, _u, api in TOPICS if name == topic)
    if api:
        base = reverse(api)
        exports = [
            {"label": _("CSV"), "url": f"{base}?{query}&format=csv".replace("?&", "?")},
            {
                "label": _("CSV (semicolons, French spreadsheets)"),
                "url": f"{base}?{query}&format=csv&sep=%3B".replace("?&", "?"),
            },
            {"label": _("Excel (XLSX)"), "url": f"{base}?{query}&format=xlsx".replace("?&", "?")},
        ]
    context = {
        "place": place,
        "breadcrumbs": place.breadcrumbs(),
        "tabs": tabs,
        "topic": topic,
        "page_url": reverse(next(u for n, _l, u, _a in TOPICS if n == topic)),
        "exports": exports,
        "extra_query": extra_query,
    }
    return place, context
