"""Pages of continuity of care, under /suivi/: the nurse's worklist and a task, the exam tracker
and an exam, the quarantine of unmatched results, a volunteer's follow-ups and questions,
closing a day (its exams and handover), and the handovers.

Views parse, authorize, call one service and render. What a person may see comes from the
models' `visible_to` (anything else answers 404, missing or not); acting on an exam or a
quarantined result is for the staff of its site (403 otherwise); a task, for whoever sees it
(its site's team and the managers it was escalated to). Every page that shows patient
references writes an `AccessRecord`. A service's refusal is shown on the form that asked,
next to the field it names, and nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.errors import DomainError
from accounts.roles import MANAGER_ROLES, SITE_STAFF_ROLES, Role
from continuity import ingest, services
from continuity.audit import record_access
from continuity.forms import (
    AnswerForm,
    CloseForm,
    ContactForm,
    DismissForm,
    ExamCancelForm,
    ExamFilterForm,
    ExamRowFormSet,
    HandoverForm,
    MatchForm,
    ReceiveForm,
    SiteFilterForm,
    TaskDoneForm,
    WorklistFilterForm,
)
from continuity.models import (
    ContactRequest,
    FollowUpTask,
    Handover,
    IncomingResult,
    PendingExam,
)
from sites.models import HostSite
from vacations.forms import CompleteForm
from vacations.models import Vacation
from volunteers.models import Volunteer

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


def _is_site_staff(user, site_id: int | None) -> bool:
    if user.is_superuser:
        return True
    return site_id is not None and (
        user.memberships.filter(role__in=SITE_STAFF_ROLES, site_id=site_id).exists()
    )


def _require_site_staff(user, site_id: int | None) -> None:
    if not _is_site_staff(user, site_id):
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


# --- The worklist -----------------------------------------------------------------------------


@login_required
@require_safe
def worklist(request: HttpRequest) -> HttpResponse:
    """Active tasks the user sees: urgent first, then by deadline; overdue ones marked."""
    user, now = request.user, timezone.now()
    sites = HostSite.objects.in_scope_of(user).order_by("name")
    filters = WorklistFilterForm(request.GET or None, sites=sites)
    visible = FollowUpTask.objects.visible_to(user).active()
    counts = visible.aggregate(
        active=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        urgent=Count("pk", filter=Q(priority=Task.Priority.URGENT)),
    )
    tasks = (
        visible.select_related("site", "exam", "assignee")
        .annotate(
            urgent_rank=Case(When(priority=Task.Priority.URGENT, then=Value(0)), default=Value(1)),
            late=Case(
                When(due_at__lt=now, then=Value(True)),
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
        if data["mine"]:
            tasks = tasks.filter(assignee=user)
        if data["overdue"]:
            tasks = tasks.filter(due_at__lt=now)
    page = _page(request, tasks)
    record_access(request, "worklist", count=len(page.object_list))
    context = {
        "page_obj": page,
        "filters": filters,
        "counts": counts,
        "filtered": filters.is_bound and filters.has_changed(),
        "is_volunteer": user.has_role(Role.VOLUNTEER),
        "levels": Task.Level,
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


# --- The exam tracker -------------------------------------------------------------------------


@login_required
@require_safe
def exams(request: HttpRequest) -> HttpResponse:
    """Exams by state: awaiting (oldest first, with their age), overdue, received, all."""
    user, today = request.user, timezone.localdate()
    sites = HostSite.objects.in_scope_of(user).order_by("name")
    filters = ExamFilterForm(request.GET or None, sites=sites)
    data = filters.cleaned_data if filters.is_valid() else {}
    view = data.get("view") or ExamFilterForm.AWAITING
    visible = PendingExam.objects.visible_to(user)
    if data.get("site"):
        visible = visible.filter(site=data["site"])
    received = (Exam.RECEIVED, Exam.REVIEWED)
    counts = visible.aggregate(
        awaiting=Count("pk", filter=Q(status=Exam.AWAITING)),
        overdue=Count("pk", filter=Q(status=Exam.AWAITING, expected_by__lt=today)),
        received=Count("pk", filter=Q(status__in=received)),
        all=Count("pk"),
    )
    listed = {
        ExamFilterForm.AWAITING: visible.filter(status=Exam.AWAITING).order_by("ordered_on", "pk"),
        ExamFilterForm.OVERDUE: visible.overdue(today=today).order_by("expected_by", "pk"),
        ExamFilterForm.RECEIVED: visible.filter(status__in=received).order_by("received_at", "pk"),
        ExamFilterForm.ALL: visible.order_by("-ordered_on", "-pk"),
    }[view]
    page = _page(request, listed.select_related("site", "prescriber__user"))
    for exam in page.object_list:
        exam.age_days = (today - exam.ordered_on).days
        exam.late = exam.status == Exam.AWAITING and exam.expected_by < today
    record_access(request, "exams", count=len(page.object_list))
    tabs = [
        {"view": value, "label": label, "count": counts[value], "current": value == view}
        for value, label in ExamFilterForm.VIEWS
    ]
    context = {
        "page_obj": page,
        "filters": filters,
        "view": view,
        "tabs": tabs,
        "site": data.get("site"),
        "today": today,
    }
    return _render(request, "continuity/exams.html", context)


# --- An exam ----------------------------------------------------------------------------------


def _render_exam(request: HttpRequest, exam: PendingExam, **forms: Form) -> HttpResponse:
    staff = _is_site_staff(request.user, exam.site_id)
    awaiting = exam.status == Exam.AWAITING
    closable = exam.status in (Exam.RECEIVED, Exam.REVIEWED)
    context = {
        "exam": exam,
        "staff": staff,
        "tasks": FollowUpTask.objects.visible_to(request.user)
        .filter(exam=exam)
        .select_related("assignee")
        .order_by("created_at", "pk"),
        "incoming": IncomingResult.objects.filter(
            IncomingResult.visible_to_q(request.user), exam=exam
        ).order_by("-received_at", "-pk"),
        "receive_form": forms.get("receive_form")
        or (ReceiveForm() if staff and awaiting else None),
        "close_form": forms.get("close_form") or (CloseForm() if staff and closable else None),
        "cancel_form": forms.get("cancel_form")
        or (ExamCancelForm() if staff and awaiting else None),
        "today": timezone.localdate(),
    }
    record_access(request, "exam", object_id=exam.pk)
    return _render(request, "continuity/exam_detail.html", context)


def _exam_url(exam: PendingExam) -> str:
    return reverse("continuity_exam", args=[exam.pk])


@login_required
@require_safe
def exam_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An exam, its tasks and incoming results; its site's staff record or close its result."""
    return _render_exam(request, _exam_for(request, pk))


@login_required
@require_POST
def exam_receive_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A result came back by hand (mail, phone, lab portal): the nurse gets a task."""
    exam = _exam_for(request, pk)
    _require_site_staff(request.user, exam.site_id)
    form = ReceiveForm(request.POST)
    if form.is_valid():
        try:
            services.exam_receive(
                exam=exam,
                by=request.user,
                abnormal=form.cleaned_data["abnormal"],
                result_summary=form.cleaned_data["result_summary"],
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="result_summary")
        else:
            messages.success(request, gettext("The result is recorded: a follow-up task is open."))
            return redirect(_exam_url(exam))
    return _render_exam(request, exam, receive_form=form)


@login_required
@require_POST
def exam_close_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The follow-up is done: who is responsible, and the three legs (DMP, patient, prescriber)."""
    exam = _exam_for(request, pk)
    _require_site_staff(request.user, exam.site_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.exam_close(exam=exam, by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc)
        else:
            messages.success(request, gettext("The exam's follow-up is closed."))
            return redirect(_exam_url(exam))
    return _render_exam(request, exam, close_form=form)


@login_required
@require_POST
def exam_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    exam = _exam_for(request, pk)
    _require_site_staff(request.user, exam.site_id)
    form = ExamCancelForm(request.POST)
    if form.is_valid():
        try:
            services.exam_cancel(exam=exam, by=request.user, reason=form.cleaned_data["reason"])
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="reason")
        else:
            messages.success(request, gettext("The exam is cancelled."))
            return redirect(_exam_url(exam))
    return _render_exam(request, exam, cancel_form=form)


# --- Quarantine -------------------------------------------------------------------------------


def _matchable(user) -> QuerySet[PendingExam]:
    """The exams a quarantined result may be matched to: visible to `user`, still open."""
    return PendingExam.objects.visible_to(user).open()


def _render_quarantine(
    request: HttpRequest, *, bound: tuple[int, str, Form] | None = None
) -> HttpResponse:
    user = request.user
    visible = IncomingResult.objects.filter(IncomingResult.visible_to_q(user))
    invalid_view = request.GET.get("view") == "invalid"
    quarantined = visible.filter(outcome=Outcome.QUARANTINED, resolved_at__isnull=True)
    invalid = visible.filter(outcome=Outcome.INVALID)
    counts = visible.aggregate(
        quarantined=Count("pk", filter=Q(outcome=Outcome.QUARANTINED, resolved_at__isnull=True)),
        invalid=Count("pk", filter=Q(outcome=Outcome.INVALID)),
    )
    listed = invalid if invalid_view else quarantined
    number = request.POST.get("page") if request.method == "POST" else None
    paginator = Paginator(listed.select_related("site").order_by("-received_at", "-pk"), PAGE_SIZE)
    page = paginator.get_page(number or request.GET.get("page"))
    page.object_list = list(page.object_list)
    if not invalid_view:
        _attach_quarantine_forms(user, page.object_list, bound)
    if bound and not any(row.pk == bound[0] for row in page.object_list):
        _say_errors(request, bound[2])  # its row left the list (resolved meanwhile)
    record_access(
        request, "quarantine_invalid" if invalid_view else "quarantine", count=len(page.object_list)
    )
    context = {"page_obj": page, "counts": counts, "invalid_view": invalid_view}
    return _render(request, "continuity/quarantine.html", context)


def _attach_quarantine_forms(user, rows: list[IncomingResult], bound) -> None:
    """A match and a dismiss form on each row its user may act on; the exams to pick from are
    fetched once for the page (those of the rows' sites)."""
    staff_sites = _staff_site_ids(user)
    site_ids = {row.site_id for row in rows if row.site_id}
    choices: dict[int, list[PendingExam]] = {}
    candidates = (
        _matchable(user)
        .filter(site_id__in=site_ids)
        .order_by("site_id", "-ordered_on", "-pk")[:MATCH_CHOICES]
    )
    for exam in candidates if site_ids else ():
        choices.setdefault(exam.site_id, []).append(exam)
    matchable = _matchable(user)
    for row in rows:
        row.can_act = row.site_id is not None and (
            staff_sites is None or row.site_id in staff_sites
        )
        if not row.can_act:
            continue
        site_choices = choices.get(row.site_id, [])
        row.match_form = MatchForm(exams=matchable, incoming=row, choices=site_choices)
        row.dismiss_form = DismissForm(incoming=row)
        if bound and bound[0] == row.pk:
            form = bound[2]
            if bound[1] == "match":
                form.fields["exam"].choices = row.match_form.fields["exam"].choices
                row.match_form = form
            else:
                row.dismiss_form = form
            row.open_form = bound[1]


@login_required
@require_safe
def quarantine(request: HttpRequest) -> HttpResponse:
    """Results that matched no exam, to match or set aside; and the unreadable messages."""
    return _render_quarantine(request)


@login_required
@require_POST
def quarantine_match_page(request: HttpRequest, pk: int) -> HttpResponse:
    incoming = _incoming_for(request, pk)
    _require_site_staff(request.user, incoming.site_id)
    form = MatchForm(request.POST, exams=_matchable(request.user), incoming=incoming)
    if form.is_valid():
        try:
            ingest.quarantine_match(
                incoming=incoming, exam=form.cleaned_data["exam"], by=request.user
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc)
        else:
            messages.success(request, gettext("The result is matched to its exam."))
            return redirect(reverse("continuity_quarantine"))
    return _render_quarantine(request, bound=(incoming.pk, "match", form))


@login_required
@require_POST
def quarantine_dismiss_page(request: HttpRequest, pk: int) -> HttpResponse:
    incoming = _incoming_for(request, pk)
    _require_site_staff(request.user, incoming.site_id)
    form = DismissForm(request.POST, incoming=incoming)
    if form.is_valid():
        try:
            ingest.quarantine_dismiss(
                incoming=incoming, by=request.user, note=form.cleaned_data["note"]
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="note")
        else:
            messages.success(request, gettext("The result is set aside."))
            return redirect(reverse("continuity_quarantine"))
    return _render_quarantine(request, bound=(incoming.pk, "dismiss", form))


# --- A volunteer's follow-ups -----------------------------------------------------------------


def _answer_form(contact: ContactRequest, data=None) -> AnswerForm:
    return AnswerForm(data, auto_id=f"question-{contact.pk}-%s")


def _render_followups(
    request: HttpRequest, *, bound: dict[int, AnswerForm] | None = None
) -> HttpResponse:
    user = request.user
    volunteer = Volunteer.objects.filter(user=user).first()
    context: dict[str, Any] = {"volunteer": volunteer}
    if volunteer is not None:
        page = _page(
            request,
            PendingExam.objects.visible_to(user)
            .filter(prescriber=volunteer)
            .select_related("site")
            .order_by("-ordered_on", "-pk"),
        )
        questions = (
            ContactRequest.objects.visible_to(user)
            .filter(volunteer=volunteer)
            .select_related("task__exam", "task__site", "asked_by")
        )
        waiting = list(questions.filter(status=ContactRequest.Status.WAITING).order_by("due_at"))
        answered = list(
            questions.filter(status=ContactRequest.Status.ANSWERED).order_by("-answered_at")[:10]
        )
        for contact in waiting:
            contact.form = (bound or {}).get(contact.pk) or _answer_form(contact)
        for pk, form in (bound or {}).items():
            if all(contact.pk != pk for contact in waiting):  # answered meanwhile
                _say_errors(request, form)
        context.update(
            {"page_obj": page, "waiting": waiting, "answered": answered, "now": timezone.now()}
        )
        record_access(
            request, "my_followups", count=len(page.object_list) + len(waiting) + len(answered)
        )
    return _render(request, "continuity/my_followups.html", context)


@login_required
@require_safe
def my_followups(request: HttpRequest) -> HttpResponse:
    """The volunteer's side: the questions the sites ask, and the exams it prescribed."""
    return _render_followups(request)


@login_required
@require_POST
def contact_answer_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the volunteer asked answers (anyone else: 404, even the site that asked)."""
    contact = get_object_or_404(
        ContactRequest.objects.visible_to(request.user).filter(volunteer__user=request.user),
        pk=pk,
    )
    form = _answer_form(contact, request.POST)
    if form.is_valid():
        try:
            services.contact_answer(
                request=contact, by=request.user, answer=form.cleaned_data["answer"]
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="answer")
        else:
            messages.success(request, gettext("Your answer is sent to the site."))
            return redirect(f"{reverse('continuity_my_followups')}#question-{contact.pk}")
    return _render_followups(request, bound={contact.pk: form})


# --- Closing a day ----------------------------------------------------------------------------


def _closure_day(request: HttpRequest, vacation_pk: int) -> Vacation:
    """The day, if the caller sees it (else 404) and is its volunteer or its site's staff
    (else 403)."""
    days = Vacation.objects.visible_to(request.user).select_related("site", "volunteer__user")
    vacation = get_object_or_404(days, pk=vacation_pk)
    staff = _is_site_staff(request.user, vacation.site_id)
    own = vacation.volunteer_id is not None and vacation.volunteer.user_id == request.user.pk
    if not (staff or own):
        raise PermissionDenied
    return vacation


def _render_closure(
    request: HttpRequest,
    vacation: Vacation,
    *,
    formset=None,
    handover_form: HandoverForm | None = None,
    row_errors: list[str] | None = None,
) -> HttpResponse:
    user, today = request.user, timezone.localdate()
    recordable = vacation.status in (Vacation.Status.BOOKED, Vacation.Status.DONE)
    on_time = vacation.date <= today
    recorded = list(PendingExam.objects.visible_to(user).filter(vacation=vacation).order_by("pk"))
    context = {
        "vacation": vacation,
        "site": vacation.site,
        "can_record": recordable and on_time,
        "too_early": recordable and not on_time,
        "can_complete": vacation.status == Vacation.Status.BOOKED and on_time,
        "formset": formset or ExamRowFormSet(prefix="exams"),
        "row_errors": row_errors or [],
        "handover_form": handover_form or HandoverForm(),
        "complete_form": CompleteForm(),
        "recorded": recorded,
        "handovers": Handover.objects.visible_to(user)
        .filter(vacation=vacation)
        .select_related("author"),
        "missing": services.closure_missing(vacation, False),
        "here": request.get_full_path(),
    }
    record_access(request, "day_closure", object_id=vacation.pk, count=len(recorded))
    return _render(request, "continuity/day_closure.html", context)


def _rows_refused(vacation: Vacation, rows: list, exc: Refusal) -> list[str]:
    """Give `exams_record`'s refusal back to the rows it names; what names no row is returned
    (shown above the formset)."""
    forms = [form for form, _data in rows]
    general: list[str] = []
    if isinstance(exc, DomainError):
        if exc.code == "duplicate_order_number":
            numbers = [data.get("order_number") for _form, data in rows]
            taken = set(
                PendingExam.objects.filter(
                    site_id=vacation.site_id, order_number__in=numbers
                ).values_list("order_number", flat=True)
            )
            clashing = taken | {n for n in numbers if numbers.count(n) > 1}
            named = [form for form, data in rows if data.get("order_number") in clashing]
            for form in named:
                form.add_error("order_number", exc.message)
                form.describe_errors()
            if named:
                return general
        return [exc.message]
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    for key, errors in exc.error_dict.items():
        match = ROW_KEY.fullmatch(key)
        if match and int(match[1]) < len(forms):
            form, field = forms[int(match[1])], match[2]
        elif not match and len(forms) == 1:
            form, field = forms[0], key
        else:
            general.extend(e for error in errors for e in error.messages)
            continue
        form.add_error(field if field in form.fields else None, errors)
        form.describe_errors()
    return general


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def day_closure(request: HttpRequest, vacation_pk: int) -> HttpResponse:
    """Close a day: the exams prescribed (several at once), the handover, then the day done.

    POST `form=exams` records the filled rows, all or none; `form=handover` writes the handover.
    """
    vacation = _closure_day(request, vacation_pk)
    here = reverse("continuity_day_closure", args=[vacation.pk])
    if request.method != "POST":
        return _render_closure(request, vacation)
    if request.POST.get("form") == "handover":
        form = HandoverForm(request.POST)
        if form.is_valid():
            try:
                services.handover_write(
                    vacation=vacation,
                    by=request.user,
                    text=form.cleaned_data["text"],
                    patient_refs=form.cleaned_data["patient_refs"],
                )
            except (DomainError, ValidationError) as exc:
                _refusal(form, exc, field="text")
            else:
                messages.success(request, gettext("The handover is written."))
                return redirect(f"{here}#handover")
        return _render_closure(request, vacation, handover_form=form)
    formset = ExamRowFormSet(request.POST, prefix="exams")
    general: list[str] = []
    if formset.is_valid():
        rows = formset.rows()
        if not rows:
            general = [gettext("Fill in at least one exam.")]
        else:
            try:
                created = services.exams_record(
                    vacation=vacation, by=request.user, rows=[data for _form, data in rows]
                )
            except (DomainError, ValidationError) as exc:
                general = _rows_refused(vacation, rows, exc)
            else:
                count = len(created)
                messages.success(
                    request,
                    ngettext("%(count)s exam recorded.", "%(count)s exams recorded.", count)
                    % {"count": count},
                )
                return redirect(f"{here}#exams")
    return _render_closure(request, vacation, formset=formset, row_errors=general)


# --- Handovers --------------------------------------------------------------------------------


def _handovers(user) -> QuerySet[Handover]:
    return Handover.objects.visible_to(user).select_related(
        "vacation__site", "vacation__volunteer__user", "author"
    )


@login_required
@require_safe
def handovers(request: HttpRequest) -> HttpResponse:
    """The latest handovers of the user's sites (a volunteer: where it comes next); each one
    shown is recorded as read by the user."""
    user = request.user
    sites = HostSite.objects.filter(
        pk__in=Handover.objects.visible_to(user).values("vacation__site")
    ).order_by("name")
    filters = SiteFilterForm(request.GET or None, sites=sites)
    listed = _handovers(user).order_by("-created_at", "-pk")
    if filters.is_valid() and filters.cleaned_data["site"]:
        listed = listed.filter(vacation__site=filters.cleaned_data["site"])
    page = _page(request, listed)
    services.record_reads(page.object_list, reader=user)
    record_access(request, "handovers", count=len(page.object_list))
    return _render(request, "continuity/handovers.html", {"page_obj": page, "filters": filters})


@login_required
@require_safe
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    handover = get_object_or_404(_handovers(request.user), pk=pk)
    services.record_reads([handover], reader=request.user)
    record_access(request, "handover", object_id=handover.pk)
    return _render(request, "continuity/handover_detail.html", {"handover": handover})


urlpatterns = [
    path("", worklist, name="continuity_worklist"),
    path("taches/<int:pk>/", task_detail, name="continuity_task"),
    path("taches/<int:pk>/commencer/", task_start_page, name="continuity_task_start"),
    path("taches/<int:pk>/terminer/", task_done_page, name="continuity_task_done"),
    path("taches/<int:pk>/question/", task_contact_page, name="continuity_task_contact"),
    path("examens/", exams, name="continuity_exams"),
    path("examens/<int:pk>/", exam_detail, name="continuity_exam"),
    path("examens/<int:pk>/resultat/", exam_receive_page, name="continuity_exam_receive"),
    path("examens/<int:pk>/cloturer/", exam_close_page, name="continuity_exam_close"),
    path("examens/<int:pk>/annuler/", exam_cancel_page, name="continuity_exam_cancel"),
    path("quarantaine/", quarantine, name="continuity_quarantine"),
    path(
        "quarantaine/<int:pk>/associer/",
        quarantine_match_page,
        name="continuity_quarantine_match",
    ),
    path(
        "quarantaine/<int:pk>/ecarter/",
        quarantine_dismiss_page,
        name="continuity_quarantine_dismiss",
    ),
    path("mes-suivis/", my_followups, name="continuity_my_followups"),
    path("questions/<int:pk>/repondre/", contact_answer_page, name="continuity_contact_answer"),
    path("journees/<int:vacation_pk>/cloture/", day_closure, name="continuity_day_closure"),
    path("transmissions/", handovers, name="continuity_handovers"),
    path("transmissions/<int:pk>/", handover_detail, name="continuity_handover"),
]
