"""A site's month, a day and its actions, and booking a volunteer: the site staff's pages."""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.models import User
from accounts.permissions import allowed, require
from sites import services as sites_services
from sites.access import get_site_for
from vacations import selectors, services
from vacations.calls import asked_for
from vacations.forms import (
    MONTHS_AHEAD,
    BookForm,
    CancelForm,
    CompleteForm,
    OpenDaysForm,
    PreparationForm,
)
from vacations.models import DayPreparation, Vacation, usual_arrival
from vacations.statements import parse_month
from vacations.views.common import (
    CANCELLABLE,
    PAGE_SIZE,
    DayRights,
    Status,
    act,
    day_rights,
    local_today,
    next_url,
    planning_url,
    staff_rights,
    vacation_for,
)
from vacations.views.practical import practical_context, request_offers

# --- A site's month -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def site_planning(request: HttpRequest, site_pk: int) -> HttpResponse:
    """The site's month (Monday first) and the requests to confirm; the secretary opens days.

    POST opens the days of the form, all or none, and comes back to the month of the first one.
    """
    site = get_site_for(request.user, site_pk, write=True)
    today = local_today()
    opens = allowed(request.user, "vacations.open_day", site)
    open_until = selectors.add_months(selectors.month_start(today), MONTHS_AHEAD)
    # A click on an empty day of the month: the form below, with that date filled in.
    chosen = _chosen_day(request.GET.get("jour"), today, open_until) if opens else None
    try:
        month = parse_month(request.GET["mois"])
    except (KeyError, ValueError):
        month = selectors.month_start(chosen or today)
    form = None
    if opens:
        initial_month = (
            selectors.month_start(chosen) if chosen else max(month, selectors.month_start(today))
        )
        initial = {"month": f"{initial_month:%Y-%m}"}
        if chosen:
            initial["extra_dates"] = f"{chosen:%d/%m/%Y}"
        form = OpenDaysForm(
            request.POST if request.method == "POST" else None, today=today, initial=initial
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                opened = services.vacations_open(
                    site=site,
                    dates=form.cleaned_data["dates"],
                    period=form.cleaned_data["period"],
                    by=request.user,
                    today=today,
                )
            except (DomainError, ValidationError) as exc:
                form.add_service_error(exc)
            else:
                count = len(opened)
                messages.success(
                    request,
                    ngettext("%(count)s day opened.", "%(count)s days opened.", count)
                    % {"count": count},
                )
                return redirect(planning_url(site, selectors.month_start(opened[0].date)))
    # A pôle mère's month shows its secondary practices' days beside its own, each labelled
    # with its site; `?site=` narrows it to one of them.
    group = selectors.planning_group(request.user, site)
    shown = [s for s in group if str(s.pk) == request.GET.get("site")] or group
    requests = Paginator(
        selectors.requests_to_confirm(request.user, shown, today=today), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    calendar = selectors.site_month(request.user, shown, month, today=today)
    own_days_shown = site in shown
    context = {
        "site": site,
        "group": group if len(group) > 1 else [],
        "shown_site": shown[0] if len(shown) == 1 and len(group) > 1 else None,
        "site_query": f"&site={shown[0].pk}" if len(shown) == 1 and len(group) > 1 else "",
        "calendar": calendar,
        "requests_page": requests,
        "form": form,
        "staff": allowed(request.user, "sites.work_at_site", site),
        "today": today,
        "statuses": Status,
        "chosen_day": chosen,
        "openable_days": (
            _openable_days(calendar, site, today, open_until) if opens and own_days_shown else set()
        ),
    }
    if context["staff"]:
        # The site's private feed: every day at the site, for the team's shared calendar.
        context["calendar_url"] = request.build_absolute_uri(
            reverse("site_calendar", kwargs={"token": site.calendar_token})
        )
    return render(request, "vacations/site_planning.html", context)


def _openable_days(
    calendar: selectors.MonthCalendar, site, today: Date, open_until: Date
) -> set[Date]:
    """The month's days without a day of `site` that the form can open: each one links to it
    in the calendar (a secondary practice's day on that date leaves the site's free)."""
    return {
        day.date
        for week in calendar.weeks
        for day in week.days
        if day.in_month
        and not any(v.site_id == site.pk for v in day.vacations)
        and today <= day.date < open_until
    }


def _chosen_day(value: str | None, today: Date, open_until: Date) -> Date | None:
    """The day picked in the month (`?jour=YYYY-MM-DD`), if it can still be opened."""
    try:
        day = Date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if today <= day < open_until else None


@login_required
@require_POST
def site_calendar_rotate(request: HttpRequest, site_pk: int) -> HttpResponse:
    """A new secret for the site's calendar feed (the team's staff only)."""
    site = get_site_for(request.user, site_pk, write=True)
    require(request.user, "sites.work_at_site", site)
    sites_services.site_calendar_rotate(site=site, by=request.user)
    messages.success(
        request, gettext("The site's calendar address is new: the old one no longer works.")
    )
    return redirect(reverse("site_planning", args=[site.pk]) + "#site-calendar")


# --- A day ----------------------------------------------------------------------------------


def render_day(
    request: HttpRequest,
    vacation: Vacation,
    rights: DayRights,
    *,
    extra: dict[str, Any] | None = None,
    **forms: Any,
) -> HttpResponse:
    """The day's page; `extra` is what a higher app adds to it (continuity's `day_detail`, which
    serves `/jours/<pk>/`: the day's exams and handover, or the way to its closure)."""
    today = local_today()
    preparation = getattr(vacation, "preparation", None)
    if vacation.status == Status.BOOKED and rights.prepares and "preparation_form" not in forms:
        initial = {name: getattr(preparation, name, False) for name in services.PREPARATION_FIELDS}
        initial["arrival_time"] = getattr(preparation, "arrival_time", None)
        forms["preparation_form"] = PreparationForm(initial=initial)
    context = {
        "vacation": vacation,
        "site": vacation.site,
        "rights": rights,
        "preparation": preparation,
        "arrival": preparation.arrival() if preparation else usual_arrival(vacation.period),
        "preparation_checks": _checks(preparation),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        # Posted to continuity's `day_complete`, which shows its own refusals.
        "complete_form": CompleteForm(),
        "preparation_form": forms.get("preparation_form"),
        # What to offer; the services decide again on submit.
        # A refused form is shown again, whatever the day's state now.
        "can_cancel": "cancel_form" in forms or (rights.staff and vacation.status in CANCELLABLE),
        "can_close": rights.prepares
        and vacation.status == Status.BOOKED
        and vacation.date <= today,
        "can_withdraw": rights.own
        and vacation.status in (Status.REQUESTED, Status.BOOKED)
        and vacation.date >= today,
        "can_request": rights.volunteer is not None
        and not rights.staff
        and vacation.status == Status.OPEN,
        "today": today,
        "statuses": Status,
    }
    if context["can_request"]:
        # Said before the button is pressed: what keeps the volunteer from requesting it.
        context["gaps"] = rights.volunteer.booking_gaps(today=today)
    context.update(practical_context(vacation, rights, today))
    if context["can_request"] and not context.get("gaps"):
        context.update(request_offers(vacation))
    if rights.staff and vacation.status == Status.OPEN:
        # Who the daily call for volunteers asked about this day (and nobody took it yet).
        context["asked"] = User.objects.filter(pk__in=asked_for(vacation)).order_by("last_name")
    context.update(extra or {})
    return render(request, "vacations/vacation_detail.html", context)


def _checks(preparation: DayPreparation | None) -> list[tuple[str, bool]]:
    fields = services.PREPARATION_FIELDS
    return [
        (DayPreparation._meta.get_field(name).verbose_name, bool(getattr(preparation, name, False)))
        for name in fields
    ]


def _day_url(vacation: Vacation) -> str:
    return reverse("vacation_detail", args=[vacation.pk])


@login_required
@require_POST
def vacation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff confirm a volunteer's request: the day is booked for that volunteer."""
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.book_day", vacation)
    act(
        request,
        lambda: services.vacation_book(
            vacation=vacation, volunteer=vacation.volunteer, by=request.user, confirming=True
        ),
        done=gettext("The day is booked: the volunteer is told."),
    )
    return redirect(next_url(request, _day_url(vacation)))


@login_required
@require_POST
def vacation_decline_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.book_day", vacation)
    act(
        request,
        lambda: services.vacation_decline(vacation=vacation, by=request.user),
        done=gettext("The request is declined: the day is open again."),
    )
    return redirect(next_url(request, _day_url(vacation)))


@login_required
@require_POST
def vacation_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    rights = staff_rights(request, vacation, "vacations.cancel_day")
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.vacation_cancel(
                vacation=vacation, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The day is cancelled."))
            return redirect(_day_url(vacation))
    return render_day(request, vacation, rights, cancel_form=form)


@login_required
@require_POST
def vacation_no_show_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.cancel_day", vacation)
    act(
        request,
        lambda: services.vacation_no_show(vacation=vacation, by=request.user),
        done=gettext("The volunteer's absence is recorded."),
    )
    return redirect(_day_url(vacation))


@login_required
@require_POST
def vacation_preparation(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick the checklist of a booked day (site staff or the day's volunteer)."""
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.prepare_day", vacation)
    rights = day_rights(request, vacation)
    form = PreparationForm(request.POST)
    if form.is_valid():
        try:
            services.preparation_update(vacation=vacation, by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The preparation checklist is saved."))
            return redirect(next_url(request, _day_url(vacation)))
    return render_day(request, vacation, rights, preparation_form=form)


# --- Booking a volunteer on an open day -----------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def vacation_book_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Eligible volunteers for an open day, those available then first; Book → `vacation_book`.

    A refusal (quota, overlap, eligibility…) shows the list again with the reason.
    """
    vacation = vacation_for(request, pk)
    require(request.user, "vacations.book_day", vacation)
    today = local_today()
    form = BookForm(
        request.POST if request.method == "POST" else None,
        volunteers=selectors.bookable_by(request.user, vacation),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.vacation_book(
                vacation=vacation, volunteer=form.cleaned_data["volunteer"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The day is booked: the volunteer is told."))
            return redirect(planning_url(vacation.site, selectors.month_start(vacation.date)))
    candidates = None
    if vacation.status == Status.OPEN:
        candidates = Paginator(
            selectors.booking_candidates(vacation, user=request.user, today=today), PAGE_SIZE
        ).get_page(request.GET.get("page"))
    context = {
        "vacation": vacation,
        "site": vacation.site,
        "form": form,
        "page_obj": candidates,
        "statuses": Status,
    }
    return render(request, "vacations/book.html", context)
