"""Results arriving as messages: stored raw first, then matched, quarantined or found invalid.

The order is the guarantee: the bytes are committed before any parsing, so whatever happens
next (a parser bug, an unknown order number, a database error while matching) the message is in
`IncomingResult` and listed, and every quarantined message has a `resolve_quarantine` task with a
named assignee. Nothing here raises on bad input.

A sender only ever reaches its own sites: an exam is looked for among the sites in its scope, an
order number found elsewhere is answered like an unknown one (nothing tells it exists), and a
replay is only looked for among the messages of the site the message is routed to, about the
same order numbers — ids chosen by one sender never reach another site's messages.

A batch (several HL7 messages, or a FHIR Bundle) is stored whole first, as one row whose outcome
becomes `batch`; then each of its messages is stored as its own row (its own bytes, `batch`
pointing to the whole) and handled exactly like a message sent alone. A batch refused as a whole
(no message, too many) is that first row, `invalid`.

A message answering several orders (an ORU^R01 with repeated ORC/OBR groups) is split per
order: its row keeps the bytes (once) and becomes `split`, each order is a row of its own
(`message` pointing to it) matched to its own exam or quarantined on its own.

Cost: a message is one INSERT (committed at once), then one transaction of about a dozen
queries (exam locked and read with its site, replay, exam and its history, its tasks, the
assignee, the task and its history, the notice, the message's outcome); a batch stores all its
messages in one INSERT first. `ingest()` is the entry point for jobs and benchmarks.
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
from continuity.deadlines import add_working_days, department_of
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from continuity.parsing import (
    InvalidMessage,
    ParsedResult,
    parse_fhir,
    parse_hl7,
    split_fhir,
    split_hl7,
)
from sites.models import HostSite

logger = logging.getLogger(__name__)

Outcome = IncomingResult.Outcome
Reason = IncomingResult.Reason
PARSERS = {IncomingResult.Format.HL7V2: parse_hl7, IncomingResult.Format.FHIR: parse_fhir}
SPLITTERS = {IncomingResult.Format.HL7V2: split_hl7, IncomingResult.Format.FHIR: split_fhir}
# What we keep of a body far over the limit (it is refused anyway, but kept to be looked at).
STORED_BYTES = 4 * 1_048_576


def home_site(user) -> HostSite | None:
    """The site a sender works for (the first where it is staff, else the first in scope)."""
    return (
        HostSite.objects.staffed_by(user).order_by("pk").first()
        or HostSite.objects.in_scope_of(user).order_by("pk").first()
    )


def _text(value: str) -> str:
    """Text for a text column: PostgreSQL refuses NUL (the raw bytes keep it)."""
    return (value or "").replace("\x00", "")


_UNSET = object()
# What routing writes on a message's row (never its bytes again).
ROUTED_FIELDS = [
    "replay_key", "order_number", "patient_ref", "abnormal", "summary", "report_status",
    "outcome", "reason", "error", "exam", "site", "replay_of",
]  # fmt: skip


def store(
    *,
    fmt: str,
    body: bytes,
    content_type: str,
    caller,
    now=None,
    batch=None,
    site=_UNSET,
) -> IncomingResult:
    """Commit the raw message on its own, before anything can go wrong.

    One INSERT outside any transaction of ours: committed when it returns (autocommit), or by
    the caller's transaction. `site`: the sender's `home_site`, when the caller knows it.
    """
    row = _new_row(
        fmt=fmt,
        body=body,
        content_type=content_type,
        caller=caller,
        now=now,
        batch=batch,
        site=home_site(caller) if site is _UNSET else site,
    )
    row.save(force_insert=True)
    return row


def _new_row(*, fmt, body, content_type, caller, now, batch, site) -> IncomingResult:
    return IncomingResult(
        batch=batch,
        format=fmt,
        content_type=_text(content_type)[:200],
        raw=bytes(body[:STORED_BYTES]),
        size=len(body),
        truncated=len(body) > STORED_BYTES,
        caller=caller if getattr(caller, "is_authenticated", False) else None,
        site=site,
        received_at=now or timezone.now(),
    )


def ingest(
    *, fmt: str, body: bytes, content_type: str, caller, now=None, site=_UNSET
) -> IncomingResult:
    """Store, parse and route one message; the returned row's `outcome` says what happened.

    The entry point for jobs and benchmarks (one message, never split into a batch).
    """
    now = now or timezone.now()
    incoming = store(
        fmt=fmt, body=body, content_type=content_type, caller=caller, now=now, site=site
    )
    return _handle(incoming, body=body, content_type=content_type, caller=caller, now=now)


def receive(
    *, fmt: str, body: bytes, content_type: str, caller, now=None, site=_UNSET
) -> tuple[IncomingResult, list[IncomingResult] | None]:
    """Store a body, then handle it as one message or as a batch of messages.

    Returns the row of the body as received and, for a batch, the rows of its messages in the
    body's order (None for a single message, whose row is the first one, and for a batch refused
    as a whole, whose row is `invalid`). A message answering several orders comes back as its
    row (`split`) with the rows of its orders in `order_results`.
    `site`: the sender's `home_site` when the caller has looked it up already.
    """
    now = now or timezone.now()
    if site is _UNSET:
        site = home_site(caller)
    incoming = store(
        fmt=fmt, body=body, content_type=content_type, caller=caller, now=now, site=site
    )
    try:
        parts = SPLITTERS[fmt](bytes(body), content_type or "")
    except InvalidMessage as exc:  # the batch as a whole: empty, too many messages...
        return _mark_invalid(incoming, str(exc.detail)), None
    except Exception:  # a splitter bug: read it as one message, the parser will say
        logger.exception("result %s could not be split", incoming.pk)
        parts = None
    if parts is None:
        handled = _handle(incoming, body=body, content_type=content_type, caller=caller, now=now)
        return handled, None
    incoming.outcome = Outcome.BATCH
    incoming.save(update_fields=["outcome"])
    # Every message is stored (in one insert) before any is handled; one already known to be
    # invalid (a Bundle entry that is no report) is stored as such.
    rows = []
    for part in parts:
        row = _new_row(
            fmt=fmt,
            body=part.body,
            content_type=content_type,
            caller=caller,
            now=now,
            batch=incoming,
            site=site,
        )
        if part.error is not None:
            row.outcome, row.error = Outcome.INVALID, _text(str(part.error.detail))[:2000]
        rows.append(row)
    stored = IncomingResult.objects.bulk_create(rows)
    handled = iter(
        _handle_batch(
            [
                (row, part.body)
                for part, row in zip(parts, stored, strict=True)
                if part.error is None
            ],
            content_type=content_type,
            caller=caller,
            now=now,
        )
    )
    messages = [
        row if part.error is not None else next(handled)
        for part, row in zip(parts, stored, strict=True)
    ]
    return incoming, messages


def _handle_batch(items, *, content_type: str, caller, now) -> list[IncomingResult]:
    """The messages of a batch, each stored already: parsed one by one, then routed together.

    Every message gets exactly what it would get alone (matched, quarantined with its task,
    recorded as a replay, invalid), in the batch's order; what is shared is the work: one read
    of the exams the batch answers (locked), one of the replays, one routing table for their
    sites, the exams, tasks, history and messages written in bulk (issue 14: ≥ 200 messages a
    second). If anything fails on that path, it is rolled back and each message is handled on
    its own (`_handle`), so one bad message never costs the others.
    """
    results: list[IncomingResult | None] = []
    together: list[tuple[int, IncomingResult, ParsedResult]] = []
    for index, (incoming, body) in enumerate(items):
        try:
            parsed = PARSERS[incoming.format](bytes(body), content_type or "")
        except Exception:  # invalid (or a parser bug): alone, where `_handle` says why
            results.append(
                _handle(incoming, body=body, content_type=content_type, caller=caller, now=now)
            )
            continue
        if len(parsed.orders) > 1:  # split per order: alone
            results.append(_split(incoming, parsed, caller=caller, now=now))
            continue
        results.append(None)
        together.append((index, incoming, parsed))
    if together:
        try:
            routed = _route_together([(i, p) for _index, i, p in together], caller=caller, now=now)
        except Exception:
            logger.exception("a batch could not be routed together: each message alone")
            fresh = IncomingResult.objects.in_bulk([incoming.pk for _i, incoming, _p in together])
            routed = [
                _route_or_quarantine(fresh[incoming.pk], parsed, caller=caller, now=now)
                for _index, incoming, parsed in together
            ]
        for (index, _incoming, _parsed), row in zip(together, routed, strict=True):
            results[index] = row
    return results


@transaction.atomic
def _route_together(items, *, caller, now) -> list[IncomingResult]:
    """`route` for the messages of a batch in one transaction (see `_handle_batch`)."""
    numbers = {number for _incoming, parsed in items for number in parsed.order_numbers}
    found = _exams_in_scope(numbers, caller)
    candidates: dict[int, PendingExam | None] = {}
    for incoming, parsed in items:
        _describe(incoming, parsed)
        exam = _answered(parsed, found)
        candidates[incoming.pk] = exam
        if exam is not None:
            incoming.site = exam.site  # the nurse of the exam's site resolves it
    # Replays: of a message stored before this batch, or of an earlier one in it.
    keyed = [incoming for incoming, _parsed in items if incoming.site_id and incoming.replay_key]
    seen: dict[tuple, IncomingResult] = {}
    if keyed:
        for previous in (
            IncomingResult.objects.filter(
                replay_key__in={i.replay_key for i in keyed},
                site_id__in={i.site_id for i in keyed},
                order_number__in={i.order_number for i in keyed},
                outcome__in=[Outcome.MATCHED, Outcome.QUARANTINED],
            )
            .exclude(pk__in=[incoming.pk for incoming, _parsed in items])
            .order_by("-pk")
            .only("pk", "replay_key", "site_id", "order_number", "outcome", "exam_id", "reason")
        ):
            seen[(previous.replay_key, previous.site_id, previous.order_number)] = previous
    # Each message in the batch's order; results on one exam go in rounds (a second result on
    # an exam is an amended one, received after the first).
    rounds: list[list[tuple[IncomingResult, services.Received]]] = []
    received_on: dict[int, int] = {}  # exam pk -> results on it so far in this batch
    for incoming, parsed in items:
        key = (incoming.replay_key, incoming.site_id, incoming.order_number)
        previous = seen.get(key) if incoming.site_id and incoming.replay_key else None
        exam = candidates[incoming.pk]
        if previous is not None:
            incoming.replay_of = previous  # what it gave is copied once the batch is routed
            continue
        reason = Reason.UNKNOWN_ORDER
        if exam is not None and not _same_patient(parsed, exam):
            exam, reason = None, Reason.PATIENT_MISMATCH
        if exam is not None and exam.status == PendingExam.Status.CANCELLED:
            exam, reason = None, Reason.EXAM_CANCELLED  # a human decides
        if exam is None:
            incoming.outcome, incoming.reason = Outcome.QUARANTINED, reason
        else:
            incoming.outcome, incoming.exam = Outcome.MATCHED, exam
            result = services.Received(exam, parsed.abnormal, parsed.summary, parsed.amended)
            depth = received_on.get(exam.pk, 0)
            received_on[exam.pk] = depth + 1
            if depth == len(rounds):
                rounds.append([])
            rounds[depth].append((incoming, result))
        if incoming.site_id and incoming.replay_key:
            seen.setdefault(key, incoming)
    routing = services.Routing(
        {incoming.site_id for incoming, _parsed in items if incoming.site_id}
    )
    for batch in rounds:
        for _incoming, result in batch:
            # A result on an exam already answered is an amended one (as `route` says).
            result.amended = result.amended or result.exam.status != PendingExam.Status.AWAITING
        refusals = services.receive_many(
            [result for _incoming, result in batch], by=caller, now=now, routing=routing
        )
        for (incoming, _result), refusal in zip(batch, refusals, strict=True):
            if isinstance(refusal, DomainError):  # refused by the exam's rules: a human decides
                incoming.outcome, incoming.reason = Outcome.QUARANTINED, Reason.EXAM_CANCELLED
                incoming.exam = None
            elif refusal is not None:  # what the message says is refused (`_routing_failed`)
                incoming.outcome, incoming.reason = Outcome.QUARANTINED, Reason.ROUTING_FAILED
                incoming.exam, incoming.error = None, _("Routing failed; match it by hand.")
    rows = [incoming for incoming, _parsed in items]
    for incoming in rows:
        if incoming.replay_of is not None:  # recorded with what the first one gave
            previous = incoming.replay_of
            incoming.outcome, incoming.exam_id = previous.outcome, previous.exam_id
            incoming.reason = previous.reason
    IncomingResult.objects.bulk_update(rows, ROUTED_FIELDS)
    services.tasks_create(
        [
            _quarantine_spec(incoming, now=now)
            for incoming in rows
            if incoming.outcome == Outcome.QUARANTINED
            and incoming.replay_of is None
            and incoming.site_id is not None  # a sender with no site is refused before
        ],
        now=now,
        routing=routing,
    )
    return rows


def _handle(incoming: IncomingResult, *, body: bytes, content_type: str, caller, now):
    """Parse and route a stored message."""
    fmt = incoming.format
    try:
        parsed = PARSERS[fmt](bytes(body), content_type or "")
    except InvalidMessage as exc:
        return _mark_invalid(incoming, str(exc.detail))
    except Exception:  # a parser bug is still not the sender's 500
        logger.exception("result %s could not be parsed", incoming.pk)
        return _mark_invalid(incoming, _("The message could not be read."))
    if len(parsed.orders) > 1:
        return _split(incoming, parsed, caller=caller, now=now)
    return _route_or_quarantine(incoming, parsed, caller=caller, now=now)


def _route_or_quarantine(incoming: IncomingResult, parsed: ParsedResult, *, caller, now):
    try:
        return route(incoming, parsed, caller=caller, now=now)
    except Exception:
        # The message is stored; a failure while routing leaves it in quarantine for a human.
        logger.exception("result %s could not be routed", incoming.pk)
        return _routing_failed(incoming, parsed, now=now)


def _split(incoming: IncomingResult, parsed: ParsedResult, *, caller, now) -> IncomingResult:
    """A message answering several orders: each order is matched to its own exam (within the
    sender's sites), or quarantined on its own, exactly as if it had come alone.

    The message's row keeps the raw bytes (once) and becomes `split`; each order is a row of
    its own pointing to it (`message`), with its numbers, results and flags, and no bytes. The
    rows of the orders are returned in `order_results`, in the message's order.
    """
    _describe(incoming, parsed)
    incoming.outcome = Outcome.SPLIT
    incoming.save(update_fields=ROUTED_FIELDS)
    results = []
    for order in parsed.orders:
        part = IncomingResult.objects.create(
            message=incoming,
            format=incoming.format,
            content_type=incoming.content_type,
            raw=b"",
            size=0,
            caller_id=incoming.caller_id,
            site=incoming.site,
            received_at=incoming.received_at,
        )
        results.append(_route_or_quarantine(part, order, caller=caller, now=now))
    incoming.order_results = results
    return incoming


def _mark_invalid(incoming: IncomingResult, detail: str) -> IncomingResult:
    incoming.outcome = Outcome.INVALID
    incoming.error = _text(detail)[:2000]
    incoming.save(update_fields=["outcome", "error"])
    return incoming


def _describe(incoming: IncomingResult, parsed: ParsedResult) -> None:
    """What the message says, for the lists and for a person matching it by hand."""
    incoming.replay_key = _text(parsed.replay_key)[:200]
    incoming.order_number = _text(", ".join(parsed.order_numbers))[:200]
    incoming.patient_ref = _text(parsed.patient_id)[:200]
    incoming.abnormal = parsed.abnormal
    incoming.summary = _text(parsed.summary)
    incoming.report_status = _text(parsed.status)[:20]


def _routing_failed(incoming: IncomingResult, parsed: ParsedResult, *, now) -> IncomingResult:
    """Quarantined at the sender's site, with a task: a named person matches it by hand."""
    incoming = IncomingResult.objects.get(pk=incoming.pk)
    incoming.outcome, incoming.reason = Outcome.QUARANTINED, Reason.ROUTING_FAILED
    incoming.error = _("Routing failed; match it by hand.")
    try:
        with transaction.atomic():
            _describe(incoming, parsed)
            incoming.save(update_fields=ROUTED_FIELDS)
    except Exception:  # what the message says may be what broke: keep only the outcome
        logger.exception("result %s: its content could not be recorded", incoming.pk)
        incoming = IncomingResult.objects.get(pk=incoming.pk)
        incoming.outcome, incoming.reason = Outcome.QUARANTINED, Reason.ROUTING_FAILED
        incoming.error = _("Routing failed; match it by hand.")
        incoming.save(update_fields=["outcome", "reason", "error"])
    try:
        with transaction.atomic():
            quarantine_task(incoming, now=now)
    except Exception:
        logger.exception("result %s: no task could be opened for its quarantine", incoming.pk)
    return incoming


def _exams_in_scope(numbers, caller) -> dict[str, PendingExam]:
    """The exams with these order numbers among the sites in the sender's scope only, by
    order number, read under their row locks (in the caller's transaction, in key order: two
    deliveries, or two batches, never deadlock).

    An order number of a site outside that scope is not looked for at all: the answer is the
    same as for a number that exists nowhere (`unknown_order`), in content and in time.
    """
    exams = (
        PendingExam.objects.filter(
            site__in=HostSite.objects.in_scope_of(caller), order_number__in=numbers
        )
        .select_related("site__territory__department")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {exam.order_number: exam for exam in exams}


def _answered(parsed: ParsedResult, found: dict[str, PendingExam]) -> PendingExam | None:
    """The exam the message answers: its placer number first, the filler's as fallback."""
    return next((found[number] for number in parsed.order_numbers if number in found), None)


def _same_patient(parsed: ParsedResult, exam: PendingExam) -> bool:
    if not parsed.patient_id:
        return True
    return parsed.patient_id.strip().casefold() == exam.patient_ref.strip().casefold()


def _is_replay(incoming: IncomingResult) -> bool:
    """The same message again: recorded with what the first one gave, nothing else happens.

    "The same" is the same content key (MSH-4 and MSH-10, or the FHIR body's hash) about the
    same order numbers at the same site — the one the message is routed to, which is in the
    sender's scope. So a replay is only ever found among messages this sender could have sent
    for this exam: ids planted from another site are another message there, not this one.
    """
    if incoming.site_id is None or not incoming.replay_key:
        return False
    previous = (
        IncomingResult.objects.filter(
            replay_key=incoming.replay_key,
            site_id=incoming.site_id,
            order_number=incoming.order_number,
            outcome__in=[Outcome.MATCHED, Outcome.QUARANTINED],
        )
        .exclude(pk=incoming.pk)
        .order_by("pk")
        .first()
    )
    if previous is None:
        return False
    incoming.replay_of = previous
    incoming.outcome, incoming.exam_id = previous.outcome, previous.exam_id
    incoming.reason = previous.reason
    incoming.save(update_fields=ROUTED_FIELDS)
    return True


@transaction.atomic
def route(incoming: IncomingResult, parsed: ParsedResult, *, caller, now) -> IncomingResult:
    """Match the message to an exam of the sender's sites, or quarantine it with a task.

    A message is routed to the exam's site when its order is found in the sender's scope, else
    it stays at the sender's own site (set when stored).
    """
    # The row is this request's own, just stored: nobody else knows it yet, no lock to take.
    _describe(incoming, parsed)
    # Read under the exam's row lock: two deliveries of one message are ordered, the second
    # sees the first (and its replay).
    exam = _answered(parsed, _exams_in_scope(parsed.order_numbers, caller))
    reason = Reason.UNKNOWN_ORDER
    if exam is not None:
        incoming.site = exam.site  # the nurse of the exam's site resolves it
    if _is_replay(incoming):
        return incoming
    if exam is not None and not _same_patient(parsed, exam):
        exam, reason = None, Reason.PATIENT_MISMATCH
    if exam is not None and exam.status == PendingExam.Status.CANCELLED:
        exam, reason = None, Reason.EXAM_CANCELLED  # a human decides
    if exam is not None:
        try:
            # Refusals are raised before any write: the transaction stays usable.
            services.receive_locked(
                exam=exam,
                by=caller,
                abnormal=parsed.abnormal,
                result_summary=parsed.summary,
                amended=parsed.amended or exam.status != PendingExam.Status.AWAITING,
                now=now,
            )
        except DomainError:
            exam, reason = None, Reason.EXAM_CANCELLED
    if exam is not None:
        incoming.outcome, incoming.exam, incoming.site = Outcome.MATCHED, exam, exam.site
        incoming.save(update_fields=ROUTED_FIELDS)
        return incoming
    incoming.outcome, incoming.reason = Outcome.QUARANTINED, reason
    incoming.save(update_fields=ROUTED_FIELDS)
    quarantine_task(incoming, now=now, new=True)
    return incoming


def quarantine_task(incoming: IncomingResult, *, now, new: bool = False) -> FollowUpTask | None:
    """One `resolve_quarantine` task for the nurse of the message's site, else its territory
    manager (then the ARS): every quarantined message has a named owner.

    `new`: the message is being routed now, in this transaction, so it has no task yet and
    nobody else can give it one (no lookup, no savepoint)."""
    if incoming.site_id is None:  # a sender with no site is refused before storing
        logger.error("result %s is quarantined without a site: nobody owns it", incoming.pk)
        return None
    spec = _quarantine_spec(incoming, now=now)
    if new:
        return services.tasks_create([spec], now=now)[0]
    return services.task_open(**vars(spec), now=now)[0]


def _quarantine_spec(incoming: IncomingResult, *, now) -> services.NewTask:
    urgent = bool(incoming.abnormal)
    return services.NewTask(
        site=incoming.site,
        kind=FollowUpTask.Kind.RESOLVE_QUARANTINE,
        incoming=incoming,
        title=_("Match a result received without a known exam (%(reason)s)")
        % {"reason": incoming.get_reason_display().lower()},
        priority=FollowUpTask.Priority.URGENT if urgent else FollowUpTask.Priority.NORMAL,
        due_at=(
            now + timedelta(hours=settings.RELEVE_TASK_URGENT_HOURS)
            if urgent
            else add_working_days(now, 1, department=department_of(incoming.site))
        ),
    )


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
