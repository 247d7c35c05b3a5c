"""Results that matched no exam: match them by hand, or set them aside."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import allowed, require
from continuity import ingest
from continuity.audit import record_access
from continuity.forms import (
    DismissForm,
    MatchForm,
)
from continuity.models import (
    IncomingResult,
    PendingExam,
)
from continuity.views.common import (
    MATCH_CHOICES,
    PAGE_SIZE,
    Outcome,
    _incoming_for,
    _narrow,
    _refusal,
    _render,
    _say_errors,
)

# --- Quarantine -------------------------------------------------------------------------------


def _matchable(user) -> QuerySet[PendingExam]:
    """The exams a quarantined result may be matched to: visible to `user`, still open."""
    return PendingExam.objects.visible_to(user).open()


def _render_quarantine(
    request: HttpRequest, *, bound: tuple[int, str, Form] | None = None
) -> HttpResponse:
    user = request.user
    visible, narrowed = _narrow(
        request,
        IncomingResult.objects.filter(IncomingResult.visible_to_q(user)),
        names=("region", "department", "territory", "site"),
    )
    invalid_view = request.GET.get("view") == "invalid"
    quarantined = visible.filter(IncomingResult.quarantined_q())
    invalid = visible.filter(outcome=Outcome.INVALID)
    counts = visible.aggregate(
        quarantined=Count("pk", filter=IncomingResult.quarantined_q()),
        invalid=Count("pk", filter=Q(outcome=Outcome.INVALID)),
    )
    listed = invalid if invalid_view else quarantined
    number = request.POST.get("page") if request.method == "POST" else None
    paginator = Paginator(
        listed.select_related("site").defer("raw").order_by("-received_at", "-pk"), PAGE_SIZE
    )
    page = paginator.get_page(number or request.GET.get("page"))
    page.object_list = list(page.object_list)
    if not invalid_view:
        _attach_quarantine_forms(user, page.object_list, bound)
    if bound and not any(row.pk == bound[0] for row in page.object_list):
        _say_errors(request, bound[2])  # its row left the list (resolved meanwhile)
    record_access(
        request, "quarantine_invalid" if invalid_view else "quarantine", count=len(page.object_list)
    )
    context = {
        "page_obj": page,
        "counts": counts,
        "invalid_view": invalid_view,
        "narrowed": narrowed,
    }
    return _render(request, "continuity/quarantine.html", context)


def _attach_quarantine_forms(user, rows: list[IncomingResult], bound) -> None:
    """A match and a dismiss form on each row its user may act on; the exams to pick from are
    fetched once for the page (those of the rows' sites)."""
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
    # The rule depends only on the row's site: asked once per site shown.
    may_resolve: dict[int | None, bool] = {}
    for row in rows:
        if row.site_id not in may_resolve:
            may_resolve[row.site_id] = allowed(user, "continuity.resolve_result", row)
        row.can_act = may_resolve[row.site_id]
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
    require(request.user, "continuity.resolve_result", incoming)
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
    require(request.user, "continuity.resolve_result", incoming)
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
