"""A volunteer's side: requesting and withdrawing, my planning, the open days; and the
public site page with its upcoming days."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.permissions import require
from config.querying import CappedPaginator
from sites.views.catalogue import detail_context
from vacations import selectors, services
from vacations.calendar import subscription_urls
from vacations.forms import (
    OpenDaysFilterForm,
)
from vacations.views.common import (
    PAGE_SIZE,
    Status,
    act,
    local_today,
    my_profile,
    next_url,
    vacation_for,
)
from vacations.views.practical import accommodation_from_post

# --- A volunteer's side ---------------------------------------------------------------------


@login_required
@require_POST
def vacation_request_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer asks for an open day; then its planning, or back to the search with why not."""
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.request_day", vacation)
    volunteer = my_profile(request)
    requested = act(
        request,
        lambda: services.vacation_request(
            vacation=vacation,
            volunteer=volunteer,
            accommodation=accommodation_from_post(request),
        ),
        done=gettext("Your request is sent: the site will confirm it."),
    )
    if requested:
        return redirect("my_planning")
    return redirect(next_url(request, reverse("open_days")))


@login_required
@require_POST
def vacation_withdraw_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.withdraw_day", vacation)
    volunteer = my_profile(request)
    act(
        request,
        lambda: services.vacation_withdraw(vacation=vacation, volunteer=volunteer),
        done=gettext("You withdrew from this day: it is open again for others."),
    )
    return redirect(next_url(request, reverse("my_planning")))


@login_required
@require_safe
def my_planning(request: HttpRequest) -> HttpResponse:
    """A volunteer's days: coming up, waiting for an answer, to close, and past ones."""
    volunteer = my_profile(request)
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "today": local_today(),
        "statuses": Status,
        "section": "planning",
    }
    if volunteer is not None:
        context["planning"] = selectors.my_planning(
            request.user, volunteer, today=context["today"], page=request.GET.get("page")
        )
        context.update(subscription_urls(request, volunteer))
    return render(request, "vacations/my_planning.html", context)


@login_required
@require_safe
def open_days(request: HttpRequest) -> HttpResponse:
    """Open days at public sites, from today on, filtered; a volunteer requests one here."""
    today = local_today()
    form = OpenDaysFilterForm(request.GET or None, territories=selectors.offered_territories())
    days = form.filter(selectors.open_days(request.user, today=today))
    # Counted up to COUNT_CAP ("more than 1,000 open days" past it): not every open day in France.
    page = CappedPaginator(days, PAGE_SIZE).get_page(request.GET.get("page"))
    volunteer = my_profile(request)
    context = {
        "form": form,
        "page_obj": page,
        "volunteer": volunteer,
        # Said before any button is pressed: what keeps the volunteer from requesting a day.
        "gaps": volunteer.booking_gaps(today=today) if volunteer else [],
        "here": request.get_full_path(),
    }
    return render(request, "vacations/open_days.html", context)


@require_safe
def public_site(request: HttpRequest, pk: int) -> HttpResponse:
    """The catalogue's page of a site, plus the upcoming days when a doctor is there (so that
    patients learn of the offer; never a name)."""
    context = detail_context(request, pk)
    context["presence"] = selectors.upcoming_presence(context["site"], today=timezone.localdate())
    return render(request, "vacations/public_site.html", context)
