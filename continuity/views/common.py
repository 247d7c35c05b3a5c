"""What the continuity pages share: fetching in scope, site-staff checks, refusals on
forms, rendering with the section navigation, pagination."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from accounts.roles import PILOT_ROLES, SITE_STAFF_ROLES, Role
from config.pagination import SteadyPaginator
from config.querying import CappedPaginator
from continuity.access import get_exam_for, get_incoming_for, get_task_for
from continuity.models import (
    FollowUpTask,
    IncomingResult,
    PendingExam,
)
from sites.models import Department, HostSite, Region, Territory

PAGE_SIZE = 20
# How many exams the quarantine page offers to pick from (the order number finds the others).
MATCH_CHOICES = 300
ROW_KEY = re.compile(r"rows\.(\d+)\.(\w+)")
Exam = PendingExam.Status
Task = FollowUpTask
Outcome = IncomingResult.Outcome
Refusal = DomainError | ValidationError
SECTION_NAV = (
    # (url name, label, for the team and managers, for volunteers)
    ("continuity_worklist", _("Worklist"), True, False),
    ("continuity_exams", _("Pending exams"), True, False),
    ("continuity_quarantine", _("Quarantine"), True, False),
    ("continuity_handovers", _("Handovers"), True, True),
    ("continuity_my_followups", _("My follow-ups"), False, True),
)


# --- Fetch and authorize ----------------------------------------------------------------------


def _task_for(request: HttpRequest, pk: int) -> FollowUpTask:
    return get_task_for(request.user, pk)


def _exam_for(request: HttpRequest, pk: int) -> PendingExam:
    return get_exam_for(request.user, pk)


def _incoming_for(request: HttpRequest, pk: int) -> IncomingResult:
    return get_incoming_for(request.user, pk)


def _refusal(form: Form, exc: Refusal, *, field: str | None = None) -> None:
    """A service's refusal on `form`; a bare `ValidationError` (a validator run on one value)
    belongs to `field`."""
    if isinstance(exc, ValidationError) and not hasattr(exc, "error_dict") and field:
        form.add_error(field, exc)
        form.describe_errors()
    else:
        form.add_service_error(exc)


def _say_errors(request: HttpRequest, form: Form) -> None:
    """A refused form that the page cannot show: its errors as a message."""
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))


def _act(request: HttpRequest, action, *, done: str) -> bool:
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, done)
    return True


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render with the follow-up pages' own navigation (by the user's roles, already read)."""
    user = request.user
    team = user.is_superuser or user.has_role(*SITE_STAFF_ROLES, *PILOT_ROLES)
    volunteer = user.has_role(Role.VOLUNTEER)
    context["section_nav"] = [
        {"url": reverse(name), "label": label, "current": request.path == reverse(name)}
        for name, label, for_team, for_volunteers in SECTION_NAV
        if (team and for_team) or (volunteer and for_volunteers)
    ]
    return render(request, template, context)


def _page(request: HttpRequest, queryset: QuerySet, *, capped: bool = False):
    """A page of `queryset`; `capped`: its count reads at most `COUNT_CAP` + 1 rows (the lists
    that grow with the country: the exam tracker, the worklist)."""
    paginator = CappedPaginator if capped else SteadyPaginator
    page = paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)  # fetched once, iterated by view and template
    return page


# --- A list narrowed to a place (what a dashboard's figure counts) -----------------------------

# (query parameter, model, path from a host site); the dashboards name places the same way.
PLACE_LOOKUPS = (
    ("region", Region, "territory__department__region"),
    ("department", Department, "territory__department"),
    ("territory", Territory, "territory"),
    ("site", HostSite, "pk"),
)


@dataclass(frozen=True)
class Narrowed:
    label: str  # the narrowest place's name
    params: dict[str, str]  # the query parameters that narrow (kept by the page's filters)


def _narrow(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    field: str = "site",
    names: tuple[str, ...] = ("region", "department", "territory"),
) -> tuple[QuerySet, Narrowed | None]:
    """`queryset` (already what the user sees) narrowed to the place named by `?region=`,
    `?department=`, `?territory=` (and `?site=` for the lists whose filter form has no site):
    the list a dashboard's figure counts, with the same scope. A place outside the user's
    scope lists nothing (the rows are the user's already); an unknown or malformed one is a 404,
    as on the dashboards. One query when narrowed (the narrowest place's name), none otherwise."""
    params: dict[str, str] = {}
    narrowest = None
    for name, model, path in PLACE_LOOKUPS:
        value = request.GET.get(name, "").strip() if name in names else ""
        if not value:
            continue
        if model in (Territory, HostSite) and not value.isdigit():
            raise Http404
        queryset = queryset.filter(**{field if path == "pk" else f"{field}__{path}": value})
        params[name] = value
        narrowest = (name, model, value)
    if narrowest is None:
        return queryset, None
    name, model, value = narrowest
    places = HostSite.objects.in_scope_of(request.user) if name == "site" else model.objects
    place = places.filter(pk=value).first()
    if place is None:
        raise Http404
    return queryset, Narrowed(str(place), params)
