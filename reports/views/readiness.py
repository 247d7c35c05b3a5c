"""`/pilotage/preparation/`: the readiness of the place (`reports.readiness`) — a table with
its drill-down, and the three queues a manager works from, each paginated on its own."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from reports import readiness
from reports.views.common import dashboard_context

QUEUE_SIZE = 10


@dataclass(frozen=True)
class Queue:
    """One paginated queue of the page, its page number read from its own parameter."""

    name: str  # sheets | sites | volunteers: the anchor and the `<name>_page` parameter
    label: str
    page: Page
    previous_url: str
    next_url: str


def _queue(request: HttpRequest, name: str, label: str, queryset) -> Queue:
    param = f"{name}_page"
    page = Paginator(queryset, QUEUE_SIZE).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}#{name}"

    return Queue(
        name,
        label,
        page,
        url(page.previous_page_number()) if page.has_previous() else "",
        url(page.next_page_number()) if page.has_next() else "",
    )


@login_required
def readiness_page(request: HttpRequest) -> HttpResponse:
    place, context = dashboard_context(request, "readiness")
    table = readiness.table(place)
    sites = _queue(request, "sites", _("Sites not ready"), readiness.not_ready_queue(place))
    readiness.missing_labels(sites.page)
    context.update(
        table=table,
        chart=readiness.readiness_chart(table),
        tiles=[
            {
                "key": column.key,
                "label": column.label,
                "value": table.totals[column.key],
                "link": link,
            }
            for column in readiness.FIGURES
            for link in [readiness.figure_links(place.params).get(column.key)]
        ],
        sheets=_queue(
            request, "sheets", _("Sheets awaiting validation"), readiness.sheets_queue(place)
        ),
        sites=sites,
        volunteers=_queue(
            request,
            "volunteers",
            _("Volunteers awaiting verification"),
            readiness.volunteers_queue(place),
        ),
    )
    return render(request, "reports/readiness.html", context)
