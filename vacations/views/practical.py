"""A day's practical side (issue 13 § 5): the volunteer's expenses of the day, and the nights
asked at the site's accommodation — what the day's page shows of them (`practical_context`)
and the small forms it posts to. The rules are `vacations.expenses`'."""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.permissions import require
from vacations import expenses
from vacations.forms import ExpenseForm
from vacations.models import Vacation
from vacations.views.common import DayRights, act, vacation_for


def _day_url(vacation: Vacation, anchor: str = "") -> str:
    return reverse("vacation_detail", args=[vacation.pk]) + anchor


def practical_context(vacation: Vacation, rights: DayRights, today: Date) -> dict[str, Any]:
    """The day's nights and expenses, for those who see them: its volunteer and its site's
    staff (a constant number of queries)."""
    context: dict[str, Any] = {}
    if rights.own or rights.staff:
        context["nights"] = list(vacation.nights.select_related("offer"))
        context["expenses"] = list(vacation.expenses.all())
        context["can_decide_nights"] = rights.staff
    if rights.own and expenses.may_claim(vacation, today):
        statement = expenses.statement_of_day(vacation)
        context["expenses_frozen"] = statement.status != statement.Status.DRAFT
        context["can_claim"] = not context["expenses_frozen"]
        context["expense_form"] = ExpenseForm()
        context["km_rate"] = expenses.km_rate()
    return context


def request_offers(vacation: Vacation) -> dict[str, Any]:
    """What the request form offers: the site's accommodation and the nights a day may have."""
    return {
        "accommodation_offers": list(vacation.site.accommodation_offers.all()),
        "night_choices": expenses.night_choices(vacation),
    }


def accommodation_from_post(request: HttpRequest) -> dict | None:
    """The night asked with a request from the day's page (`None` when no offer is chosen)."""
    offer = request.POST.get("accommodation_offer", "")
    if not offer:
        return None
    nights = []
    for value in request.POST.getlist("accommodation_nights"):
        try:
            nights.append(Date.fromisoformat(value))
        except ValueError:
            continue
    return {
        "offer": int(offer) if offer.isdigit() else 0,
        "nights": nights,
        "note": request.POST.get("accommodation_note", ""),
    }


@login_required
@require_POST
def vacation_expense_add(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.claim_expenses", vacation)
    form = ExpenseForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label} : {' '.join(errors)}" if label else " ".join(errors))
        return redirect(_day_url(vacation, "#expenses"))
    act(
        request,
        lambda: expenses.expense_add(vacation=vacation, by=request.user, **form.cleaned_data),
        done=gettext("The expense is recorded: it is paid with the month's statement."),
    )
    return redirect(_day_url(vacation, "#expenses"))


@login_required
@require_POST
def vacation_expense_delete(request: HttpRequest, pk: int, expense_pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.claim_expenses", vacation)
    expense = vacation.expenses.filter(pk=expense_pk).first()
    if expense is None:
        raise Http404
    act(
        request,
        lambda: expenses.expense_delete(expense=expense, by=request.user),
        done=gettext("The expense is removed."),
    )
    return redirect(_day_url(vacation, "#expenses"))


@login_required
@require_POST
def vacation_night_decide(request: HttpRequest, pk: int, night_pk: int) -> HttpResponse:
    """The site's staff answer a night asked with the day (`decision`: confirm or decline)."""
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.decide_night", vacation)
    night = vacation.nights.filter(pk=night_pk).first()
    if night is None:
        raise Http404
    confirm = request.POST.get("decision") == "confirm"
    act(
        request,
        lambda: expenses.night_decide(night=night, by=request.user, confirm=confirm),
        done=gettext("The night is confirmed: the volunteer is told.")
        if confirm
        else gettext("The night is declined: the volunteer is told."),
    )
    return redirect(_day_url(vacation, "#nights"))
