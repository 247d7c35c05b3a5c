"""What the continuity pages share: fetching in scope, site-staff checks, refusals on
forms, rendering with the section navigation, pagination."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from accounts.roles import MANAGER_ROLES, SITE_STAFF_ROLES, Role
from continuity.models import (
    FollowUpTask,
    IncomingResult,
    PendingExam,
)
from sites.access import works_at

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


def _staff_site_ids(user) -> set[int] | None:
    """The sites where `user` is secretary or course nurse (None: a superuser, every site)."""
    if user.is_superuser:
        return None
    return set(
        user.memberships.filter(role__in=SITE_STAFF_ROLES, site__isnull=False).values_list(
            "site_id", flat=True
        )
    )


def _require_site_staff(user, site_id: int | None) -> None:
    if not works_at(user, site_id):
        raise PermissionDenied


def _task_for(request: HttpRequest, pk: int) -> FollowUpTask:
    tasks = FollowUpTask.objects.visible_to(request.user).select_related(
        "site", "assignee", "exam__prescriber__user", "incoming"
    )
    return get_object_or_404(tasks, pk=pk)


def _exam_for(request: HttpRequest, pk: int) -> PendingExam:
    exams = PendingExam.objects.visible_to(request.user).select_related(
        "site", "vacation", "prescriber__user", "created_by", "closed_by"
    )
    return get_object_or_404(exams, pk=pk)


def _incoming_for(request: HttpRequest, pk: int) -> IncomingResult:
    visible = IncomingResult.objects.filter(IncomingResult.visible_to_q(request.user))
    return get_object_or_404(visible.select_related("site"), pk=pk)


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
    team = user.is_superuser or user.has_role(*SITE_STAFF_ROLES, *MANAGER_ROLES)
    volunteer = user.has_role(Role.VOLUNTEER)
    context["section_nav"] = [
        {"url": reverse(name), "label": label, "current": request.path == reverse(name)}
        for name, label, for_team, for_volunteers in SECTION_NAV
        if (team and for_team) or (volunteer and for_volunteers)
    ]
    return render(request, template, context)


def _page(request: HttpRequest, queryset: QuerySet):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)  # fetched once, iterated by view and template
    return page
