"""HTML pages of the planning: a site's month, a day and its actions, booking a volunteer, a
volunteer's own planning, the open days to request, and the managers' coverage grid.

Plain forms and redirects (no script needed). Views parse, authorize, call one service and
render; a service's refusal (`DomainError`, `ValidationError`) becomes an alert with its
message, and nothing is written. Who may act: the site's staff (secretary, course nurse) on its
days, the secretary alone opens days, a volunteer on its own days; managers read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.errors import DomainError
from accounts.roles import MANAGER_ROLES, SITE_STAFF_ROLES, Role
from sites.access import get_site_for
from sites.models import HostSite
from sites.views.catalogue import detail_context
from vacations import selectors, services
from vacations.forms import (
    BookForm,
    CancelForm,
    CompleteForm,
    CoverageForm,
    OpenDaysFilterForm,
    OpenDaysForm,
    PreparationForm,
)
from vacations.models import DayPreparation, SiteCalendar, Vacation
from vacations.statements import parse_month
from volunteers.models import Volunteer

PAGE_SIZE = 20
Status = Vacation.Status
# Which buttons a day offers; `vacations.services` decides again (and says why not).
CANCELLABLE = (Status.OPEN, Status.REQUESTED, Status.BOOKED)
Refusal = DomainError | ValidationError


# --- Fetch and authorize --------------------------------------------------------------------


def _site_roles(user, site: HostSite) -> frozenset[str]:
    """The user's roles on `site` itself (1 query); a superuser acts as its staff."""
    if user.is_superuser:
        return frozenset(SITE_STAFF_ROLES)
    return frozenset(user.memberships.filter(site=site).values_list("role", flat=True))


def _my_profile(request: HttpRequest) -> Volunteer | None:
    return Volunteer.objects.filter(user=request.user).first()


def _vacation_for(request: HttpRequest, pk: int) -> Vacation:
    """The day if the caller may see it (`visible_to`), else 404 — missing or not."""
    days = Vacation.objects.visible_to(request.user).select_related(
        "site__territory__department", "site__info_sheet", "volunteer__user", "preparation"
    )
    try:
        return days.get(pk=pk)
    except Vacation.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class DayRights:
    """What the caller may do on a day it can see (the services still decide)."""

    staff: bool  # secretary or course nurse of the day's site
    own: bool  # the day's volunteer
    volunteer: Volunteer | None  # the caller's volunteer profile

    @property
    def prepares(self) -> bool:
        return self.staff or self.own


def _rights(request: HttpRequest, vacation: Vacation) -> DayRights:
    profile = _my_profile(request)
    return DayRights(
        staff=bool(_site_roles(request.user, vacation.site) & SITE_STAFF_ROLES),
        own=profile is not None and vacation.volunteer_id == profile.pk,
        volunteer=profile,
    )


def _staff_rights(request: HttpRequest, vacation: Vacation) -> DayRights:
    rights = _rights(request, vacation)
    if not rights.staff:
        raise PermissionDenied
    return rights


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go back after an action: a local `next`, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _refusal_text(exc: Refusal) -> str:
    return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)


def _act(request: HttpRequest, action: Callable[[], Any], *, done: str) -> bool:
    """Run one service call; its refusal becomes an error message, its success `done`."""
    try:
        action()
    except (DomainError, ValidationError) as exc:
        messages.error(request, _refusal_text(exc))
        return False
    messages.success(request, done)
    return True


def _today() -> Date:
    return timezone.localdate()


def _planning_url(site: HostSite, month: Date) -> str:
    return f"{reverse('site_planning', args=[site.pk])}?mois={month:%Y-%m}"


# --- A site's month -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def site_planning(request: HttpRequest, site_pk: int) -> HttpResponse:
    """The site's month (Monday first) and the requests to confirm; the secretary opens days.

    POST opens the days of the form, all or none, and comes back to the month of the first one.
    """
    site = get_site_for(request.user, site_pk, write=True)
    today = _today()
    try:
        month = parse_month(request.GET["mois"])
    except (KeyError, ValueError):
        month = selectors.month_start(today)
    roles = _site_roles(request.user, site)
    opens = Role.SECRETARY in roles
    form = None
    if opens:
        initial_month = max(month, selectors.month_start(today))
        form = OpenDaysForm(
            request.POST if request.method == "POST" else None,
            today=today,
            initial={"month": f"{initial_month:%Y-%m}"},
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
                return redirect(_planning_url(site, selectors.month_start(opened[0].date)))
    requests = Paginator(
        selectors.requests_to_confirm(request.user, site, today=today), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "site": site,
        "calendar": selectors.site_month(request.user, site, month, today=today),
        "requests_page": requests,
        "form": form,
        "staff": bool(roles & SITE_STAFF_ROLES),
        "today": today,
        "statuses": Status,
    }
    if context["staff"]:
        # The site's private feed: every day at the site, for the team's shared calendar.
        feed, _created = SiteCalendar.objects.get_or_create(site=site)
        context["calendar_url"] = request.build_absolute_uri(
            reverse("site_calendar", kwargs={"token": feed.token})
        )
    return render(request, "vacations/site_planning.html", context)


# --- A day ----------------------------------------------------------------------------------


def _render_day(
    request: HttpRequest,
    vacation: Vacation,
    rights: DayRights,
    **forms: Any,
) -> HttpResponse:
    today = _today()
    preparation = getattr(vacation, "preparation", None)
    if vacation.status == Status.BOOKED and rights.prepares and "preparation_form" not in forms:
        initial = {name: getattr(preparation, name, False) for name in services.PREPARATION_FIELDS}
        forms["preparation_form"] = PreparationForm(initial=initial)
    context = {
        "vacation": vacation,
        "site": vacation.site,
        "rights": rights,
        "preparation": preparation,
        "preparation_checks": _checks(preparation),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "complete_form": forms.get("complete_form") or CompleteForm(),
        "preparation_form": forms.get("preparation_form"),
        # What to offer; the services decide again on submit.
        # A refused form is shown again, whatever the day's state now.
        "can_cancel": "cancel_form" in forms or (rights.staff and vacation.status in CANCELLABLE),
        "can_close": "complete_form" in forms
        or (rights.prepares and vacation.status == Status.BOOKED and vacation.date <= today),
        "can_withdraw": rights.own
        and vacation.status in (Status.REQUESTED, Status.BOOKED)
        and vacation.date >= today,
        "can_request": rights.volunteer is not None
        and not rights.staff
        and vacation.status == Status.OPEN,
        "today": today,
        "statuses": Status,
    }
    return render(request, "vacations/vacation_detail.html", context)


def _checks(preparation: DayPreparation | None) -> list[tuple[str, bool]]:
    fields = services.PREPARATION_FIELDS
    return [
        (DayPreparation._meta.get_field(name).verbose_name, bool(getattr(preparation, name, False)))
        for name in fields
    ]


@login_required
@require_safe
def vacation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A day: its status, who comes, its preparation checklist, and the actions allowed."""
    vacation = _vacation_for(request, pk)
    return _render_day(request, vacation, _rights(request, vacation))


def _day_url(vacation: Vacation) -> str:
    return reverse("vacation_detail", args=[vacation.pk])


@login_required
@require_POST
def vacation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff confirm a volunteer's request: the day is booked for that volunteer."""
    vacation = _vacation_for(request, pk)
    _staff_rights(request, vacation)
    if vacation.status != Status.REQUESTED:
        messages.error(request, gettext("This day has no request to confirm."))
    else:
        _act(
            request,
            lambda: services.vacation_book(
                vacation=vacation, volunteer=vacation.volunteer, by=request.user
            ),
            done=gettext("The day is booked: the volunteer is told."),
        )
    return redirect(_next_url(request, _day_url(vacation)))


@login_required
@require_POST
def vacation_decline_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = _vacation_for(request, pk)
    _staff_rights(request, vacation)
    _act(
        request,
        lambda: services.vacation_decline(vacation=vacation, by=request.user),
        done=gettext("The request is declined: the day is open again."),
    )
    return redirect(_next_url(request, _day_url(vacation)))


@login_required
@require_POST
def vacation_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = _vacation_for(request, pk)
    rights = _staff_rights(request, vacation)
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
    return _render_day(request, vacation, rights, cancel_form=form)


@login_required
@require_POST
def vacation_complete_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The day took place (site staff, or its volunteer): consultations given."""
    vacation = _vacation_for(request, pk)
    rights = _rights(request, vacation)
    if not (rights.staff or rights.own):
        raise PermissionDenied
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.vacation_complete(
                vacation=vacation,
                by=request.user,
                consultations_count=form.cleaned_data["consultations_count"],
            )
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The day is recorded as done."))
            default = reverse("my_planning") if rights.own else _day_url(vacation)
            return redirect(_next_url(request, default))
    return _render_day(request, vacation, rights, complete_form=form)


@login_required
@require_POST
def vacation_no_show_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = _vacation_for(request, pk)
    _staff_rights(request, vacation)
    _act(
        request,
        lambda: services.vacation_no_show(vacation=vacation, by=request.user),
        done=gettext("The volunteer's absence is recorded."),
    )
    return redirect(_day_url(vacation))


@login_required
@require_POST
def vacation_preparation(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick the checklist of a booked day (site staff or the day's volunteer)."""
    vacation = _vacation_for(request, pk)
    rights = _rights(request, vacation)
    if not rights.prepares:
        raise PermissionDenied
    form = PreparationForm(request.POST)
    if form.is_valid():
        try:
            services.preparation_update(vacation=vacation, by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The preparation checklist is saved."))
            return redirect(_next_url(request, _day_url(vacation)))
    return _render_day(request, vacation, rights, preparation_form=form)


# --- Booking a volunteer on an open day -----------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def vacation_book_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Eligible volunteers for an open day, those available then first; Book → `vacation_book`.

    A refusal (quota, overlap, eligibility…) shows the list again with the reason.
    """
    vacation = _vacation_for(request, pk)
    _staff_rights(request, vacation)
    today = _today()
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
            return redirect(_planning_url(vacation.site, selectors.month_start(vacation.date)))
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


# --- A volunteer's side ---------------------------------------------------------------------


@login_required
@require_POST
def vacation_request_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer asks for an open day; then its planning, or back to the search with why not."""
    vacation = _vacation_for(request, pk)
    volunteer = _my_profile(request)
    if volunteer is None:
        raise PermissionDenied
    requested = _act(
        request,
        lambda: services.vacation_request(vacation=vacation, volunteer=volunteer),
        done=gettext("Your request is sent: the site will confirm it."),
    )
    if requested:
        return redirect("my_planning")
    return redirect(_next_url(request, reverse("open_days")))


@login_required
@require_POST
def vacation_withdraw_page(request: HttpRequest, pk: int) -> HttpResponse:
    vacation = _vacation_for(request, pk)
    volunteer = _my_profile(request)
    if volunteer is None or vacation.volunteer_id != volunteer.pk:
        raise PermissionDenied
    _act(
        request,
        lambda: services.vacation_withdraw(vacation=vacation, volunteer=volunteer),
        done=gettext("You withdrew from this day: it is open again for others."),
    )
    return redirect(_next_url(request, reverse("my_planning")))


@login_required
@require_safe
def my_planning(request: HttpRequest) -> HttpResponse:
    """A volunteer's days: coming up, waiting for an answer, to close, and past ones."""
    volunteer = _my_profile(request)
    context: dict[str, Any] = {"volunteer": volunteer, "today": _today(), "statuses": Status}
    if volunteer is not None:
        context["planning"] = selectors.my_planning(
            request.user, volunteer, today=context["today"], page=request.GET.get("page")
        )
        context["calendar_url"] = request.build_absolute_uri(
            reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token})
        )
    return render(request, "vacations/my_planning.html", context)


@login_required
@require_safe
def open_days(request: HttpRequest) -> HttpResponse:
    """Open days at public sites, from today on, filtered; a volunteer requests one here."""
    today = _today()
    form = OpenDaysFilterForm(request.GET or None, territories=selectors.offered_territories())
    days = form.filter(selectors.open_days(request.user, today=today))
    page = Paginator(days, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "volunteer": _my_profile(request),
        "here": request.get_full_path(),
    }
    return render(request, "vacations/open_days.html", context)


# --- Coverage for managers ------------------------------------------------------------------

COVERAGE_PAGE_SIZE = 20


@login_required
@require_safe
def coverage(request: HttpRequest) -> HttpResponse:
    """Days open / requested or booked / done per site and week, for the sites one manages."""
    user = request.user
    if not (user.is_superuser or user.has_role(*MANAGER_ROLES)):
        raise PermissionDenied
    form = CoverageForm(request.GET or None)
    start, weeks = form.values(today=_today())
    start = selectors.week_start(start)
    if not form.is_bound:
        form.initial = {"debut": start, "semaines": weeks}
    sites = (
        HostSite.objects.managed_by(user)
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


@require_safe
def public_site(request: HttpRequest, pk: int) -> HttpResponse:
    """The catalogue's page of a site, plus the upcoming days when a doctor is there (so that
    patients learn of the offer; never a name)."""
    context = detail_context(request, pk)
    context["presence"] = selectors.upcoming_presence(context["site"], today=timezone.localdate())
    return render(request, "vacations/public_site.html", context)


urlpatterns = [
    # Same path as sites' `catalogue_detail`, listed first by config: this one answers.
    path("lieux/<int:pk>/", public_site, name="public_site"),
    path("sites/<int:site_pk>/planning/", site_planning, name="site_planning"),
    path("jours/<int:pk>/", vacation_detail, name="vacation_detail"),
    path("jours/<int:pk>/reserver/", vacation_book_page, name="vacation_book_page"),
    path("jours/<int:pk>/confirmer/", vacation_confirm, name="vacation_confirm"),
    path("jours/<int:pk>/refuser/", vacation_decline_page, name="vacation_decline_page"),
    path("jours/<int:pk>/annuler/", vacation_cancel_page, name="vacation_cancel_page"),
    path("jours/<int:pk>/cloturer/", vacation_complete_page, name="vacation_complete_page"),
    path("jours/<int:pk>/absence/", vacation_no_show_page, name="vacation_no_show_page"),
    path("jours/<int:pk>/preparation/", vacation_preparation, name="vacation_preparation"),
    path("jours/<int:pk>/demander/", vacation_request_page, name="vacation_request_page"),
    path("jours/<int:pk>/retirer/", vacation_withdraw_page, name="vacation_withdraw_page"),
    path("mon-planning/", my_planning, name="my_planning"),
    path("jours-ouverts/", open_days, name="open_days"),
    path("couverture/", coverage, name="coverage"),
]
