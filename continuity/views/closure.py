"""Closing a day (its exams and handover) and reading the handovers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from continuity import services
from continuity.access import get_handover_for
from continuity.audit import record_access
from continuity.forms import (
    ExamRowFormSet,
    HandoverForm,
    SiteFilterForm,
)
from continuity.models import (
    Handover,
    PendingExam,
)
from continuity.views.common import (
    ROW_KEY,
    Refusal,
    _page,
    _refusal,
    _render,
)
from sites.models import HostSite
from vacations.access import get_vacation_for
from vacations.forms import CompleteForm
from vacations.models import Vacation
from vacations.views.common import next_url

# --- Closing a day ----------------------------------------------------------------------------


def _closure_day(request: HttpRequest, vacation_pk: int) -> Vacation:
    """The day, if the caller sees it (else 404) and is its volunteer or its site's staff
    (else 403)."""
    vacation = get_vacation_for(request.user, vacation_pk)
    require(request.user, "vacations.close_day", vacation)
    return vacation


def _render_closure(
    request: HttpRequest,
    vacation: Vacation,
    *,
    formset=None,
    handover_form: HandoverForm | None = None,
    complete_form: CompleteForm | None = None,
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
        "complete_form": complete_form or CompleteForm(),
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


@login_required
@require_POST
def day_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The day took place (its site staff, or its volunteer): closed once its exams (or "none")
    and its handover are recorded — `services.day_close` decides. Served at the day's
    `/jours/<pk>/cloturer/` (config/urls.py); a refusal shows on the closure page, which
    lists what is missing."""
    vacation = _closure_day(request, pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.day_close(
                vacation=vacation,
                by=request.user,
                consultations_count=form.cleaned_data["consultations_count"],
                no_exams=form.cleaned_data["no_exams"],
            )
        except (DomainError, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("The day is recorded as done."))
            own = vacation.volunteer_id and vacation.volunteer.user_id == request.user.pk
            default = (
                reverse("my_planning") if own else reverse("vacation_detail", args=[vacation.pk])
            )
            return redirect(next_url(request, default))
    return _render_closure(request, vacation, complete_form=form)


# --- The day's page (`feedback.views.day_detail` serves it, adding its own part) --------


def day_record(request: HttpRequest, vacation: Vacation) -> dict:
    """What the day's page adds once the day took place: the way to close it while something
    is missing, then its exams and handover (each exam and handover links to its own page,
    which `visible_to` opens to the same readers). Listing patients is recorded."""
    user, today = request.user, timezone.localdate()
    took_place = vacation.status == Vacation.Status.DONE or (
        vacation.status == Vacation.Status.BOOKED and vacation.date <= today
    )
    if not took_place:
        return {}
    missing = services.closure_missing(vacation, False)
    exams = list(
        PendingExam.objects.visible_to(user)
        .filter(vacation=vacation)
        .select_related("site")
        .order_by("pk")
    )
    handovers = list(
        Handover.objects.visible_to(user)
        .filter(vacation=vacation)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    services.record_reads(handovers, reader=user)
    record_access(request, "day_record", object_id=vacation.pk, count=len(exams))
    return {
        "record": {
            "closed": vacation.status == Vacation.Status.DONE and not missing,
            "missing": missing,
            "may_close": allowed(user, "vacations.close_day", vacation),
            "exams": exams,
            "handovers": handovers,
        }
    }


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
    handover = get_handover_for(request.user, pk)
    services.record_reads([handover], reader=request.user)
    record_access(request, "handover", object_id=handover.pk)
    return _render(request, "continuity/handover_detail.html", {"handover": handover})
