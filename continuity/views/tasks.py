"""The nurse's worklist and a task: start, done, a question to the prescriber."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Value, When
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import require
from accounts.roles import Role
from config.querying import capped_counts
from continuity import services
from continuity.audit import record_access
from continuity.forms import (
    ContactForm,
    TaskDoneForm,
    WorklistFilterForm,
)
from continuity.models import (
    ContactRequest,
    FollowUpTask,
    IncomingResult,
)
from continuity.views.common import (
    Task,
    _act,
    _narrow,
    _page,
    _refusal,
    _render,
    _task_for,
)
from sites.models import HostSite

# --- The worklist -----------------------------------------------------------------------------


@login_required
@require_safe
def worklist(request: HttpRequest) -> HttpResponse:
    """Active tasks the user sees: urgent first, then by deadline; overdue ones marked;
    narrowed to a place from a dashboard (the counts too)."""
    user, now = request.user, timezone.now()
    sites = HostSite.objects.in_scope_of(user).order_by("name")
    filters = WorklistFilterForm(request.GET or None, sites=sites)
    visible, narrowed = _narrow(request, FollowUpTask.objects.visible_to(user).active())
    overdue = FollowUpTask.overdue_q(now)
    # One query; each count reads at most COUNT_CAP + 1 rows ("more than 1,000" past it).
    counts = capped_counts(
        active=visible,
        overdue=visible.filter(overdue),
        urgent=visible.filter(priority=Task.Priority.URGENT),
    )
    tasks = (
        visible.select_related("site", "exam", "assignee")
        .annotate(
            urgent_rank=Case(When(priority=Task.Priority.URGENT, then=Value(0)), default=Value(1)),
            late=Case(
                When(overdue, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by("urgent_rank", "due_at", "pk")
    )
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"]:
            tasks = tasks.filter(status=data["status"])
        if data["kind"]:
            tasks = tasks.filter(kind=data["kind"])
        if data["site"]:
            tasks = tasks.filter(site=data["site"])
        if data["level"] is not None:
            tasks = tasks.filter(escalation_level=data["level"])
        if data["age"]:
            tasks = tasks.filter(FollowUpTask.age_q(data["age"], now))
        if data["mine"]:
            tasks = tasks.filter(assignee=user)
        if data["overdue"]:
            tasks = tasks.filter(overdue)
    page = _page(request, tasks, capped=True)
    record_access(request, "worklist", count=len(page.object_list))
    context = {
        "page_obj": page,
        "filters": filters,
        "counts": counts,
        "filtered": (filters.is_bound and filters.has_changed()) or narrowed is not None,
        "is_volunteer": user.has_role(Role.VOLUNTEER),
        "levels": Task.Level,
        "narrowed": narrowed,
    }
    return _render(request, "continuity/worklist.html", context)


# --- A task -----------------------------------------------------------------------------------


def _render_task(request: HttpRequest, task: FollowUpTask, **forms: Form) -> HttpResponse:
    active = task.status in Task.ACTIVE_STATUSES
    context = {
        "task": task,
        "exam": task.exam,
        "now": timezone.now(),
        "escalations": task.escalations.select_related("from_user", "to_user"),
        # The messages of its exam, for their raw text one click away (never their bytes here).
        "exam_messages": IncomingResult.objects.filter(
            IncomingResult.visible_to_q(request.user), exam_id=task.exam_id
        )
        .defer("raw")
        .order_by("-received_at", "-pk")
        if task.exam_id
        else [],
        "contacts": ContactRequest.objects.visible_to(request.user)
        .filter(task=task)
        .select_related("volunteer__user", "asked_by"),
        "active": active,
        "can_start": active and task.status == Task.Status.OPEN,
        "done_form": forms.get("done_form") or (TaskDoneForm() if active else None),
        "contact_form": forms.get("contact_form")
        or (ContactForm() if active and task.exam_id else None),
        "levels": Task.Level,
    }
    record_access(request, "task", object_id=task.pk)
    return _render(request, "continuity/task_detail.html", context)


def _task_url(task: FollowUpTask) -> str:
    return reverse("continuity_task", args=[task.pk])


@login_required
@require_safe
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A task: its exam, its escalations and questions to the prescriber, and its actions."""
    return _render_task(request, _task_for(request, pk))


@login_required
@require_POST
def task_start_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    require(request.user, "continuity.act_on_task", task)
    _act(
        request,
        lambda: services.task_start(task=task, by=request.user),
        done=gettext("The task is in progress."),
    )
    return redirect(_task_url(task))


@login_required
@require_POST
def task_done_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    require(request.user, "continuity.act_on_task", task)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        try:
            services.task_done(task=task, by=request.user, note=form.cleaned_data["note"])
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="note")
        else:
            messages.success(request, gettext("The task is done."))
            return redirect(_task_url(task))
    return _render_task(request, task, done_form=form)


@login_required
@require_POST
def task_contact_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the prescribing volunteer: the task waits for the answer."""
    task = _task_for(request, pk)
    require(request.user, "continuity.act_on_task", task)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_prescriber(
                task=task, by=request.user, question=form.cleaned_data["question"]
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="question")
        else:
            messages.success(request, gettext("The question is sent to the prescribing volunteer."))
            return redirect(_task_url(task))
    return _render_task(request, task, contact_form=form)
