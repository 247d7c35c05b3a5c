"""The exam tracker and an exam: manual receipt, closing with its three legs, cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from config.querying import capped_counts
from continuity import services
from continuity.audit import record_access
from continuity.forms import (
    CloseForm,
    ExamCancelForm,
    ExamFilterForm,
    LegForm,
    ReceiveForm,
)
from continuity.letter import has_letter, letter_pdf, secure_messaging_address
from continuity.models import (
    ExamLeg,
    FollowUpTask,
    IncomingResult,
    PendingExam,
)
from continuity.timeline import exam_timeline
from continuity.views.common import (
    Exam,
    _exam_for,
    _narrow,
    _page,
    _refusal,
    _render,
)
from sites.models import HostSite

# --- The exam tracker -------------------------------------------------------------------------


@login_required
@require_safe
def exams(request: HttpRequest) -> HttpResponse:
    """Exams by state: awaiting (oldest first, with their age), overdue, received, closed with
    a leg pending (the nurse's queue, `PendingExam.leg_missing_q`), closed (within dates, with
    a leg pending), all; narrowed to a place from a dashboard."""
    user, today = request.user, timezone.localdate()
    sites = HostSite.objects.in_scope_of(user).order_by("name")
    filters = ExamFilterForm(request.GET or None, sites=sites)
    data = filters.cleaned_data if filters.is_valid() else {}
    view = data.get("view") or ExamFilterForm.AWAITING
    visible, narrowed = _narrow(request, PendingExam.objects.visible_to(user))
    if data.get("site"):
        visible = visible.filter(site=data["site"])
    received = (Exam.RECEIVED, Exam.REVIEWED)
    closed = PendingExam.closed_between_q(data.get("closed_from"), data.get("closed_to"))
    if data.get("leg_missing"):
        closed &= PendingExam.leg_missing_q()
    leg_pending = PendingExam.leg_missing_q()
    # One query; each count reads at most COUNT_CAP + 1 rows ("more than 1,000" past it).
    counts = capped_counts(
        awaiting=visible.filter(status=Exam.AWAITING),
        overdue=visible.filter(PendingExam.overdue_q(today)),
        received=visible.filter(status__in=received),
        leg_pending=visible.filter(leg_pending),
        closed=visible.filter(closed),
        all=visible,
    )
    listed = {
        ExamFilterForm.AWAITING: visible.filter(status=Exam.AWAITING).order_by("ordered_on", "pk"),
        ExamFilterForm.OVERDUE: visible.overdue(today=today).order_by("expected_by", "pk"),
        ExamFilterForm.RECEIVED: visible.filter(status__in=received).order_by("received_at", "pk"),
        # The nurse's queue: oldest closing first (the longest wait for its last leg).
        ExamFilterForm.LEG_PENDING: visible.filter(leg_pending).order_by("closed_at", "pk"),
        ExamFilterForm.CLOSED: visible.filter(closed).order_by("-closed_at", "-pk"),
        ExamFilterForm.ALL: visible.order_by("-ordered_on", "-pk"),
    }[view]
    page = _page(
        request,
        # Whether a closed exam still has a leg pending, read in the page's own query.
        listed.select_related("site", "prescriber__user").annotate(
            leg_pending=ExpressionWrapper(leg_pending, output_field=BooleanField())
        ),
        capped=True,
    )
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
        "narrowed": narrowed,
    }
    return _render(request, "continuity/exams.html", context)


# --- An exam ----------------------------------------------------------------------------------


def _leg_rows(exam: PendingExam, staff: bool, forms: dict) -> list[dict]:
    """Each leg with its form (for the site's staff, once the result is received; the letter's
    leg only when the treating doctor is elsewhere)."""
    legs = services.legs_shown(exam)
    recordable = staff and exam.status in (Exam.RECEIVED, Exam.REVIEWED, Exam.CLOSED)
    rows = []
    for leg in legs:
        form = forms.get(f"leg_form_{leg.leg}")
        if form is None and recordable:
            if leg.leg != ExamLeg.Leg.TREATING_DOCTOR or has_letter(exam):
                form = LegForm(prefix=f"leg-{leg.leg}")
        rows.append({"leg": leg, "form": form})
    return rows


def _render_exam(request: HttpRequest, exam: PendingExam, **forms: Form) -> HttpResponse:
    staff = allowed(request.user, "continuity.act_on_exam", exam)
    awaiting = exam.status == Exam.AWAITING
    closable = exam.status in (Exam.RECEIVED, Exam.REVIEWED)
    exam = (
        PendingExam.objects.select_related(
            "site", "vacation", "prescriber__user", "created_by", "closed_by"
        )
        .prefetch_related("legs__by")
        .get(pk=exam.pk)
    )
    tasks = list(
        FollowUpTask.objects.visible_to(request.user)
        .filter(exam=exam)
        .select_related("assignee", "done_by")
        .order_by("created_at", "pk")
    )
    context = {
        "exam": exam,
        "staff": staff,
        "tasks": tasks,
        "timeline": exam_timeline(exam, tasks),
        "incoming": IncomingResult.objects.filter(
            IncomingResult.visible_to_q(request.user), exam=exam
        )
        .defer("raw")
        .order_by("-received_at", "-pk"),
        "receive_form": forms.get("receive_form")
        or (ReceiveForm() if staff and awaiting else None),
        "close_form": forms.get("close_form") or (CloseForm() if staff and closable else None),
        "cancel_form": forms.get("cancel_form")
        or (ExamCancelForm() if staff and awaiting else None),
        "today": timezone.localdate(),
        "legs": _leg_rows(exam, staff, forms),
        "letter": has_letter(exam) and allowed(request.user, "continuity.read_letter", exam),
        "mssante": secure_messaging_address(exam.site),
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
    require(request.user, "continuity.act_on_exam", exam)
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
    require(request.user, "continuity.act_on_exam", exam)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.exam_close(exam=exam, by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc)
        else:
            messages.success(request, gettext("The exam's follow-up is closed."))
            if form.cleaned_data.get("treating_doctor_status") == "elsewhere":
                messages.info(
                    request,
                    gettext(
                        "The liaison letter to the treating doctor is ready: send it through "
                        "the site's secure messaging, then record it as sent."
                    ),
                )
            return redirect(_exam_url(exam))
    return _render_exam(request, exam, close_form=form)


@login_required
@require_POST
def exam_leg_page(request: HttpRequest, pk: int, leg: str) -> HttpResponse:
    """Record one routing leg: done, or not applicable with a reason."""
    exam = _exam_for(request, pk)
    require(request.user, "continuity.act_on_exam", exam)
    if leg not in ExamLeg.Leg.values:
        raise Http404
    form = LegForm(request.POST, prefix=f"leg-{leg}")
    if form.is_valid():
        try:
            services.exam_leg_record(
                exam=exam,
                leg=leg,
                by=request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except (DomainError, ValidationError) as exc:
            _refusal(form, exc, field="reason")
        else:
            messages.success(request, gettext("The leg is recorded."))
            return redirect(f"{_exam_url(exam)}#leg-{leg}")
    return _render_exam(request, exam, **{f"leg_form_{leg}": form})


@login_required
@require_safe
def exam_letter_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The liaison letter to the treating doctor (PDF): the site's staff and the prescriber."""
    exam = _exam_for(request, pk)
    require(request.user, "continuity.read_letter", exam)
    record_access(request, "exam_letter", object_id=exam.pk)
    return letter_pdf(exam)


@login_required
@require_POST
def exam_cancel_page(request: HttpRequest, pk: int) -> HttpResponse:
    exam = _exam_for(request, pk)
    require(request.user, "continuity.act_on_exam", exam)
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
