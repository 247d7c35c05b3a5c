"""Fetch-and-authorize helpers and constants shared by the planning pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from sites.models import HostSite
from vacations.access import get_vacation_for
from vacations.models import Vacation
from volunteers.models import Volunteer

PAGE_SIZE = 20
Status = Vacation.Status
# Which buttons a day offers; `vacations.services` decides again (and says why not).
CANCELLABLE = (Status.OPEN, Status.REQUESTED, Status.BOOKED)
Refusal = DomainError | ValidationError


# --- Fetch and authorize --------------------------------------------------------------------


def my_profile(request: HttpRequest) -> Volunteer | None:
    return Volunteer.objects.filter(user=request.user).first()


def vacation_for(request: HttpRequest, pk: int) -> Vacation:
    """The day if the caller may see it (`visible_to`), else 404 — missing or not."""
    return get_vacation_for(request.user, pk)


@dataclass(frozen=True)
class DayRights:
    """What the caller may do on a day it can see (the services still decide)."""

    staff: bool  # books, cancels the day: its site's secretary or course nurse
    own: bool  # the day's volunteer
    volunteer: Volunteer | None  # the caller's volunteer profile

    @property
    def prepares(self) -> bool:
        return self.staff or self.own


def day_rights(request: HttpRequest, vacation: Vacation) -> DayRights:
    profile = my_profile(request)
    return DayRights(
        staff=allowed(request.user, "vacations.book_day", vacation),
        own=profile is not None and vacation.volunteer_id == profile.pk,
        volunteer=profile,
    )


def staff_rights(request: HttpRequest, vacation: Vacation, perm: str) -> DayRights:
    """What the caller may do on the day, once `perm` allows it (else 403)."""
    require(request.user, perm, vacation)
    return day_rights(request, vacation)


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go back after an action: a local `next`, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refusal_text(exc: Refusal) -> str:
    return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)


def act(request: HttpRequest, action: Callable[[], Any], *, done: str) -> bool:
    """Run one service call; its refusal becomes an error message, its success `done`."""
    try:
        action()
    except (DomainError, ValidationError) as exc:
        messages.error(request, refusal_text(exc))
        return False
    messages.success(request, done)
    return True


def local_today() -> Date:
    return timezone.localdate()


def planning_url(site: HostSite, month: Date) -> str:
    return f"{reverse('site_planning', args=[site.pk])}?mois={month:%Y-%m}"
