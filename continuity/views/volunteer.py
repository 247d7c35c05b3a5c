"""A volunteer's follow-ups: the exams it prescribed and the questions to answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.errors import DomainError
from accounts.permissions import require
from continuity import services
from continuity.access import get_contact_for
from continuity.audit import record_access
from continuity.forms import (
    AnswerForm,
)
from continuity.models import (
    ContactRequest,
    PendingExam,
)
from continuity.views.common import (
    _page,
    _refusal,
    _render,
    _say_errors,
)
from volunteers.models import Volunteer

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
    """Only the volunteer asked answers: the site that asked sees the question (403), anyone
    else does not (404)."""
    contact = get_contact_for(request.user, pk)
    require(request.user, "continuity.answer_contact", contact)
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
