"""Fetch-and-authorize: each continuity object by id, if the user may see it, else 404.

Missing and out of scope answer the same (never reveal that an object exists elsewhere).
What a reader may then do is `continuity.rules`' to say (403).
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import Http404

from continuity.models import ContactRequest, FollowUpTask, Handover, IncomingResult, PendingExam


def _get(queryset: QuerySet, pk) -> Model:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_exam_for(user, pk) -> PendingExam:
    exams = PendingExam.objects.visible_to(user).select_related(
        "site", "vacation", "prescriber__user", "created_by", "closed_by"
    )
    return _get(exams, pk)


def get_task_for(user, pk) -> FollowUpTask:
    tasks = FollowUpTask.objects.visible_to(user).select_related(
        "site", "assignee", "done_by", "exam__prescriber__user", "incoming"
    )
    return _get(tasks, pk)


def incoming_results_for(user) -> QuerySet[IncomingResult]:
    """The messages received that `user` may read: its sites' results and what it sent."""
    if not user.is_authenticated:
        return IncomingResult.objects.none()
    if user.is_superuser:
        return IncomingResult.objects.all()
    return IncomingResult.objects.filter(IncomingResult.visible_to_q(user))


def get_incoming_for(user, pk) -> IncomingResult:
    return _get(incoming_results_for(user).select_related("site"), pk)


def get_contact_for(user, pk) -> ContactRequest:
    contacts = ContactRequest.objects.visible_to(user).select_related(
        "volunteer__user", "task__site"
    )
    return _get(contacts, pk)


def get_handover_for(user, pk) -> Handover:
    handovers = Handover.objects.visible_to(user).select_related(
        "vacation__site", "vacation__volunteer__user", "author"
    )
    return _get(handovers, pk)
