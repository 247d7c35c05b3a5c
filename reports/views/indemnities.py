"""`/pilotage/indemnites/`: what we owe for a month, per place, territory statement and
volunteer; the statements' buttons (validate, send back, record the payment) for whoever may
sign them; `/pilotage/indemnites/jours/`: the closed days each figure counts.

Reading is the pilot's scope (`sites.pilot`, the place: 404 outside it); signing asks
`reports.rules` (403), the order of the steps is `reports.services`' (an error message).
"""

from __future__ import annotations

from datetime import date as Date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from reports import indemnities, services
from reports.indemnities import Status
from reports.models import Statement
from reports.periods import MonthForm
from reports.scope import place_for
from reports.views.common import dashboard_context
from sites.models import Territory

TERRITORIES_PER_PAGE = 25
VOLUNTEERS_PER_PAGE = 50
DAYS_PER_PAGE = 50
HISTORY_SHOWN = 50


def _page(request: HttpRequest, rows, per_page: int, param: str) -> tuple[Page, dict]:
    """A page of `rows` and the links to its neighbours (keeping every other parameter: two
    tables page on their own on one page)."""
    page = Paginator(rows, per_page).get_page(request.GET.get(param))

    def link(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}"

    nav = {
        "page": page,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "next": link(page.next_page_number()) if page.has_next() else None,
    }
    return page, nav


def _statement_rows(request: HttpRequest, rows: list[dict], month: Date) -> list[dict]:
    """The statements of a page of territories: their row (if any), what may be done with
    each, and whether their closed days changed since they were validated."""
    ids = [row["site__territory"] for row in rows]
    territories = Territory.objects.select_related("department").in_bulk(ids)
    statements = {
        s.territory_id: s
        for s in Statement.objects.filter(territory__in=ids, month=month).select_related(
            "validated_by", "paid_by"
        )
    }
    user = request.user
    result = []
    for row in rows:
        territory = territories[row["site__territory"]]
        statement = statements.get(territory.pk) or Statement(territory=territory, month=month)
        status = statement.status
        changed = status != Status.DRAFT and (row["days"], row["amount"]) != (
            statement.validated_days,
            statement.validated_amount,
        )
        params = {"territory": str(territory.pk)}
        result.append(
            {
                "territory": territory,
                "statement": statement,
                "days": row["days"],
                "amount": row["amount"],
                "volunteers": row["volunteers"],
                "sites": row["sites"],
                "changed": changed,
                "url": indemnities.page_url(month, params),
                "days_url": indemnities.days_url(month, params),
                "can_validate": status == Status.DRAFT
                and allowed(user, "reports.validate_statement", territory),
                "can_reopen": status == Status.VALIDATED
                and allowed(user, "reports.reopen_statement", territory),
                "can_pay": status == Status.VALIDATED
                and allowed(user, "reports.pay_statement", territory),
            }
        )
    return result


@login_required
def indemnities_page(request: HttpRequest) -> HttpResponse:
    form = MonthForm(request.GET)
    month = form.month_value()
    month_query = urlencode({"month": indemnities.month_label(month)})
    place, context = dashboard_context(request, "indemnities", extra_query=month_query)
    territory_page, territory_nav = _page(
        request, indemnities.territory_rows(place, month), TERRITORIES_PER_PAGE, "territories_page"
    )
    statement_rows = _statement_rows(request, list(territory_page.object_list), month)
    volunteer_page, volunteer_nav = _page(
        request, indemnities.volunteer_rows(place, month), VOLUNTEERS_PER_PAGE, "page"
    )
    volunteers = indemnities.volunteer_table(place, month, rows=volunteer_page.object_list)
    volunteers.rows = list(volunteers.rows)
    history = (
        Statement.history.filter(
            territory_id__in=[row["territory"].pk for row in statement_rows], month=month
        )
        .select_related("history_user", "territory")
        .order_by("-history_date", "-history_id")[:HISTORY_SHOWN]
    )
    children = indemnities.children_table(place, month)
    context.update(
        {
            "form": form,
            "month": month,
            "month_value": indemnities.month_label(month),
            "children": children,
            "amounts_chart": indemnities.amounts_chart(children),
            "statement_rows": statement_rows,
            "territory_nav": territory_nav,
            "volunteers": volunteers,
            "volunteer_nav": volunteer_nav,
            "history": history,
            "here": request.get_full_path(),
        }
    )
    return render(request, "reports/indemnities.html", context)


@login_required
def indemnity_days(request: HttpRequest) -> HttpResponse:
    """The closed days behind a figure: the place, the month, and optionally one volunteer
    and one statement status (`?month=&<place>&volunteer=&statement=`)."""
    require(request.user, "sites.pilot")
    place = place_for(request.user, request.GET)
    form = MonthForm(request.GET)
    month = form.month_value()
    days = indemnities.closed_days(month).filter(site__in=place.sites)
    filters = {}
    volunteer = request.GET.get("volunteer", "")
    if volunteer:
        if not volunteer.isdigit():
            raise Http404
        days = days.filter(volunteer_id=int(volunteer))
        filters["volunteer"] = volunteer
    statement = request.GET.get("statement", "")
    if statement:
        if statement not in Status.values:
            raise Http404
        days = days.filter(statement_status=statement)
        filters["statement"] = statement
    page, nav = _page(
        request,
        days.select_related("site__territory", "volunteer__user").order_by(
            "date", "starts_at", "site__name", "pk"
        ),
        DAYS_PER_PAGE,
        "page",
    )
    context = {
        "place": place,
        "form": form,
        "month": month,
        "page_obj": page,
        "nav": nav,
        "totals": indemnities.figures(days),
        "statement_filter": Status(statement).label if statement else None,
        "volunteer_filter": page.object_list[0].volunteer if volunteer and page else None,
        "back": indemnities.page_url(month, place.params),
        "statuses": dict(Status.choices),
    }
    return render(request, "reports/indemnity_days.html", context)


# --- The statement's steps ----------------------------------------------------------------------


def _back(request: HttpRequest, territory: Territory, month: Date | None) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        query = {"territory": territory.pk}
        if month is not None:
            query["month"] = indemnities.month_label(month)
        target = f"{reverse('reports:indemnities')}?{urlencode(query)}"
    return redirect(target)


def _step(request: HttpRequest, pk: int, *, perm: str, action, done: str) -> HttpResponse:
    """Fetch the territory in the pilot's scope (404), ask `perm` (403), read the month, call
    the service; its refusal becomes an error message."""
    require(request.user, "sites.pilot")
    territory = (
        Territory.objects.piloted_by(request.user)
        .select_related("department")
        .filter(pk=pk)
        .first()
    )
    if territory is None:
        raise Http404
    require(request.user, perm, territory)
    form = MonthForm(request.POST)
    if not request.POST.get("month") or not form.is_valid():
        messages.error(request, _("Give the month as YYYY-MM (e.g. 2026-11)."))
        return _back(request, territory, None)
    month = form.month_value()
    try:
        action(territory, month)
    except (DomainError, ValidationError) as exc:
        text = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        messages.error(request, text)
    else:
        messages.success(request, done)
    return _back(request, territory, month)


@login_required
@require_POST
def statement_validate(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        perm="reports.validate_statement",
        action=lambda territory, month: services.statement_validate(
            territory=territory, month=month, by=request.user
        ),
        done=_("The statement is validated: the ARS can pay it."),
    )


@login_required
@require_POST
def statement_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        perm="reports.reopen_statement",
        action=lambda territory, month: services.statement_reopen(
            statement=services.statement_for(territory, month), by=request.user
        ),
        done=_("The statement is back to draft."),
    )


@login_required
@require_POST
def statement_pay(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        perm="reports.pay_statement",
        action=lambda territory, month: services.statement_pay(
            statement=services.statement_for(territory, month),
            by=request.user,
            reference=request.POST.get("reference", ""),
        ),
        done=_("The payment is recorded."),
    )
