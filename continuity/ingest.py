"""Results arriving as messages: stored raw first, then matched, quarantined or found invalid.

The order is the guarantee: the bytes are committed before any parsing, so whatever happens
next (a parser bug, an unknown order number, a database error while matching) the message is in
`IncomingResult` and listed. Nothing here raises on bad input.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from continuity import services
from continuity.deadlines import add_working_days
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from continuity.parsing import InvalidMessage, ParsedResult, parse_fhir, parse_hl7
from sites.models import HostSite

logger = logging.getLogger(__name__)

Outcome = IncomingResult.Outcome
Reason = IncomingResult.Reason
PARSERS = {IncomingResult.Format.HL7V2: parse_hl7, IncomingResult.Format.FHIR: parse_fhir}
# What we keep of a body far over the limit (it is refused anyway, but kept to be looked at).
STORED_BYTES = 4 * 1_048_576


def home_site(user) -> HostSite | None:
    """The site a sender works for (the first where it is staff, else the first in scope)."""
    return (
        HostSite.objects.staffed_by(user).order_by("pk").first()
        or HostSite.objects.in_scope_of(user).order_by("pk").first()
    )


def store(*, fmt: str, body: bytes, content_type: str, caller, now=None) -> IncomingResult:
    """Commit the raw message on its own, before anything can go wrong."""
    with transaction.atomic():
        return IncomingResult.objects.create(
            format=fmt,
            content_type=(content_type or "")[:200],
            raw=bytes(body[:STORED_BYTES]),
            size=len(body),
            truncated=len(body) > STORED_BYTES,
            caller=caller if getattr(caller, "is_authenticated", False) else None,
            site=home_site(caller),
            received_at=now or timezone.now(),
        )


def ingest(*, fmt: str, body: bytes, content_type: str, caller, now=None) -> IncomingResult:
    """Store, parse and route one message; the returned row's `outcome` says what happened."""
    now = now or timezone.now()
    incoming = store(fmt=fmt, body=body, content_type=content_type, caller=caller, now=now)
    try:
        parsed = PARSERS[fmt](bytes(body), content_type or "")
    except InvalidMessage as exc:
        return _mark_invalid(incoming, str(exc.detail))
    except Exception:  # a parser bug is still not the sender's 500
        logger.exception("result %s could not be parsed", incoming.pk)
        return _mark_invalid(incoming, _("The message could not be read."))
    try:
        return route(incoming, parsed, caller=caller, now=now)
    except Exception:
        # The message is stored; a failure while routing leaves it in quarantine for a human.
        logger.exception("result %s could not be routed", incoming.pk)
        IncomingResult.objects.filter(pk=incoming.pk).update(
            outcome=Outcome.QUARANTINED,
            reason=Reason.ROUTING_FAILED,
            error=_("Routing failed; match it by hand."),
        )
        incoming.refresh_from_db()
        return incoming


def _mark_invalid(incoming: IncomingResult, detail: str) -> IncomingResult:
    incoming.outcome = Outcome.INVALID
    incoming.error = detail[:2000]
    incoming.save(update_fields=["outcome", "error"])
    return incoming


def _find_exam(parsed: ParsedResult, caller) -> tuple[PendingExam | None, str]:
    scope = HostSite.objects.in_scope_of(caller)
    found = {
        exam.order_number: exam
        for exam in PendingExam.objects.filter(
            site__in=scope, order_number__in=parsed.order_numbers
        ).select_related("site")
    }
    for number in parsed.order_numbers:  # the placer number first, the filler's as fallback
        if number in found:
            return found[number], ""
    if PendingExam.objects.filter(order_number__in=parsed.order_numbers).exists():
        return None, Reason.OUTSIDE_SCOPE
    return None, Reason.UNKNOWN_ORDER


def _same_patient(parsed: ParsedResult, exam: PendingExam) -> bool:
    if not parsed.patient_id:
        return True
    return parsed.patient_id.strip().casefold() == exam.patient_ref.strip().casefold()


def _is_replay(incoming: IncomingResult) -> bool:
    """The same message again: recorded with what the first one gave, nothing else happens."""
    previous = (
        IncomingResult.objects.filter(
            replay_key=incoming.replay_key, outcome__in=[Outcome.MATCHED, Outcome.QUARANTINED]
        )
        .exclude(pk=incoming.pk)
        .order_by("pk")
        .first()
    )
    if previous is None:
        return False
    incoming.replay_of = previous
    incoming.outcome, incoming.exam_id = previous.outcome, previous.exam_id
    incoming.reason, incoming.site_id = previous.reason, previous.site_id
    incoming.save()
    return True


@transaction.atomic
def route(incoming: IncomingResult, parsed: ParsedResult, *, caller, now) -> IncomingResult:
    incoming = IncomingResult.objects.select_for_update().get(pk=incoming.pk)
    incoming.replay_key = parsed.replay_key[:200]
    incoming.order_number = ", ".join(parsed.order_numbers)[:200]
    incoming.patient_ref = parsed.patient_id[:200]
    incoming.abnormal = parsed.abnormal
    incoming.summary = parsed.summary
    incoming.report_status = parsed.status[:20]
    exam, reason = _find_exam(parsed, caller)
    if exam is None and _is_replay(incoming):
        return incoming
    if exam is not None:
        # The exam's row lock orders two deliveries of one message: the second sees the first.
        exam = PendingExam.objects.select_for_update().get(pk=exam.pk)
        if _is_replay(incoming):
            return incoming
        incoming.site_id = exam.site_id  # the nurse of the exam's site resolves it
        if not _same_patient(parsed, exam):
            exam, reason = None, Reason.PATIENT_MISMATCH
    if exam is not None:
        try:
            with transaction.atomic():
                services.exam_receive(
                    exam=exam,
                    by=caller,
                    abnormal=parsed.abnormal,
                    result_summary=parsed.summary,
                    amended=parsed.amended or exam.status != PendingExam.Status.AWAITING,
                    now=now,
                )
        except DomainError:  # a cancelled exam: a human decides
            exam, reason = None, Reason.EXAM_CANCELLED
    if exam is not None:
        incoming.outcome, incoming.exam, incoming.site_id = Outcome.MATCHED, exam, exam.site_id
        incoming.save()
        return incoming
    incoming.outcome, incoming.reason = Outcome.QUARANTINED, reason
    incoming.save()
    quarantine_task(incoming, now=now)
    return incoming


def quarantine_task(incoming: IncomingResult, *, now) -> FollowUpTask | None:
    """One `resolve_quarantine` task for the nurse of the sender's site (or up)."""
    if incoming.site_id is None:
        return None
    urgent = bool(incoming.abnormal)
    task, _created = services.task_open(
        site=incoming.site,
        kind=FollowUpTask.Kind.RESOLVE_QUARANTINE,
        incoming=incoming,
        title=_("Match a result received without a known exam (%(reason)s)")
        % {"reason": incoming.get_reason_display().lower()},
        priority=FollowUpTask.Priority.URGENT if urgent else FollowUpTask.Priority.NORMAL,
        due_at=(
            now + timedelta(hours=settings.RELEVE_TASK_URGENT_HOURS)
            if urgent
            else add_working_days(now, 1)
        ),
        now=now,
    )
    return task


@transaction.atomic
def quarantine_match(
    *, incoming: IncomingResult, exam: PendingExam, by, now=None
) -> IncomingResult:
    """A person says which exam a quarantined result belongs to: it is received on that exam."""
    now = now or timezone.now()
    incoming = IncomingResult.objects.select_for_update().get(pk=incoming.pk)
    if incoming.outcome != Outcome.QUARANTINED or incoming.resolved_at:
        raise DomainError("invalid_transition", _("Only a quarantined result can be matched."))
    if exam.status in (PendingExam.Status.CLOSED, PendingExam.Status.CANCELLED):
        raise DomainError(
            "invalid_transition", _("A closed or cancelled exam cannot take a result.")
        )
    services.exam_receive(
        exam=exam,
        by=by,
        abnormal=bool(incoming.abnormal),
        result_summary=incoming.summary,
        amended=exam.status != PendingExam.Status.AWAITING,
        now=now,
    )
    incoming.outcome, incoming.exam, incoming.site_id = Outcome.MATCHED, exam, exam.site_id
    incoming.resolved_at, incoming.resolved_by = now, by
    incoming.save()
    note = _("Matched to %(exam)s.") % {"exam": exam}
    services.finish_tasks(incoming.tasks.all(), by=by, now=now, note=note)
    return incoming


@transaction.atomic
def quarantine_dismiss(*, incoming: IncomingResult, by, note: str, now=None) -> IncomingResult:
    """Not a result for us (a duplicate, another practice's patient): kept, but settled."""
    now = now or timezone.now()
    incoming = IncomingResult.objects.select_for_update().get(pk=incoming.pk)
    if incoming.outcome != Outcome.QUARANTINED or incoming.resolved_at:
        raise DomainError("invalid_transition", _("Only a quarantined result can be dismissed."))
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why this result is set aside.")]})
    incoming.resolved_at, incoming.resolved_by = now, by
    incoming.error = note.strip()[:2000]
    incoming.save()
    services.finish_tasks(incoming.tasks.all(), by=by, now=now, note=note)
    return incoming
