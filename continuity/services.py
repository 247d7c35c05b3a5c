"""Every change of continuity of care, once: exams, results, tasks, questions, escalation.

Callers (API, pages, jobs, ingestion) go through these functions; each runs in a transaction,
locks what it changes, validates with the models' own validators (a bad field raises a
`ValidationError` naming it, nothing written) and tells people through `accounts.notify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import DomainError
from accounts.history import save_tracked
from accounts.models import User
from accounts.notifications import Message, notify, notify_many
from accounts.roles import FOLLOW_UP_ROLES, Role
from continuity.deadlines import add_working_days, add_working_hours, department_of
from continuity.models import (
    ContactRequest,
    Escalation,
    ExamKind,
    ExamLeg,
    FollowUpTask,
    Handover,
    HandoverRead,
    IncomingResult,
    PendingExam,
)
from continuity.validators import reject_nir
from sites.models import HostSite, Membership
from vacations import services as vacations
from vacations.models import Vacation

Exam = PendingExam.Status
Task = FollowUpTask
TaskStatus = FollowUpTask.Status

EXAM_FIELDS = (
    "patient_ref", "patient_initials", "patient_birth_year", "kind", "description",
    "order_number", "ordered_on", "expected_by", "performer",
)  # fmt: skip


def _reject_nir_in(field: str, value: str) -> None:
    try:
        reject_nir(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_transition", message)


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- Who works on what ------------------------------------------------------------------------


class Routing:
    """Who answers for each of some sites at each escalation level, and how busy they are: the
    one place that decides who takes a task.

    Level 0 is the first group that has someone: the site's course nurse(s), else its medical
    assistant(s) (`FOLLOW_UP_ROLES`, seed 000 line 105), else the pôle mère's nurse(s), else
    its assistant(s); then the territory manager (1), then the ARS (2). Among a group, the
    person with the fewest active tasks takes it (then the oldest account): `pick` counts what
    it hands out, so a batch spreads its tasks as one-by-one creation would.

    At most two queries for any number of sites (their places, unless they came with their
    territory and department; then the people with their loads), so a task, a batch of
    results and an escalation cycle ask the same rule at the same cost.
    """

    def __init__(self, sites):
        places = self._places(sites)
        self._team: dict[int, list[int]] = {}
        by_site, by_territory, by_region = {}, {}, {}
        for pk, kind, parent_id, territory_id, region_id in places:
            attached = parent_id is not None and kind in HostSite.ATTACHED_KINDS
            self._team[pk] = [pk, parent_id] if attached else [pk]
            for place in self._team[pk]:
                by_site.setdefault(place, []).append(pk)
            by_territory.setdefault(territory_id, []).append(pk)
            by_region.setdefault(region_id, []).append(pk)
        active = Task.objects.filter(assignee=OuterRef("user_id"), status__in=Task.ACTIVE_STATUSES)
        rows = (
            Membership.objects.filter(user__is_active=True)
            .filter(
                Q(role__in=FOLLOW_UP_ROLES, site__in=list(by_site))
                | Q(role=Role.TERRITORY_MANAGER, territory__in=list(by_territory))
                | Q(role=Role.ARS_MANAGER, region__in=list(by_region))
            )
            .select_related("user")
            .annotate(
                load=Coalesce(
                    Subquery(
                        active.order_by().values("assignee").annotate(n=Count("pk")).values("n")
                    ),
                    0,
                )
            )
        )
        # (site, level) -> {user id} ; level 0 is kept per (place, role) to apply its order.
        self._people: dict[tuple, set[int]] = {}
        self.users: dict[int, User] = {}
        self.load: dict[int, int] = {}
        for membership in rows:
            user = membership.user
            self.users[user.pk], self.load[user.pk] = user, membership.load
            if membership.role in FOLLOW_UP_ROLES:
                keys = [("team", membership.site_id, membership.role)]
            elif membership.role == Role.TERRITORY_MANAGER:
                keys = [(pk, Task.Level.TERRITORY) for pk in by_territory[membership.territory_id]]
            else:
                keys = [(pk, Task.Level.ARS) for pk in by_region[membership.region_id]]
            for key in keys:
                self._people.setdefault(key, set()).add(user.pk)

    @staticmethod
    def _places(sites) -> list[tuple]:
        """(pk, kind, parent, territory, region) of each site: read from the sites when they
        came with their territory and department (an exam's site, read with them), else in
        one query."""
        sites = list(sites)
        if all(
            isinstance(site, HostSite)
            and HostSite.territory.is_cached(site)
            and type(site.territory).department.is_cached(site.territory)
            for site in sites
        ):
            known = {site.pk: site for site in sites}.values()
            return [
                (s.pk, s.kind, s.parent_id, s.territory_id, s.territory.department.region_id)
                for s in known
            ]
        ids = sorted({getattr(site, "pk", site) for site in sites})
        return list(
            HostSite.objects.filter(pk__in=ids).values_list(
                "pk", "kind", "parent_id", "territory_id", "territory__department__region_id"
            )
        )

    def people(self, site, level: int) -> list[int]:
        """Ids of the active users who answer for `site` at `level` (empty: nobody)."""
        pk = getattr(site, "pk", site)
        if level == Task.Level.NURSE:
            for place in self._team.get(pk, []):
                for role in FOLLOW_UP_ROLES:
                    if people := self._people.get(("team", place, role)):
                        return sorted(people)
            return []
        return sorted(self._people.get((pk, level), ()))

    def pick(self, site, *, from_level: int = 0) -> tuple[User | None, int]:
        """Who takes a task at `from_level` or, when nobody holds that role, the next level up
        (nobody at all: `(None, ARS)`); the chosen person's load grows by one."""
        for level in range(from_level, Task.Level.ARS + 1):
            if people := self.people(site, level):
                chosen = min(people, key=lambda pk: (self.load[pk], pk))
                self.load[chosen] += 1
                return self.users[chosen], level
        return None, Task.Level.ARS

    def hand_over(self, user_id: int | None) -> None:
        """A task left `user_id` (escalated to someone else): one fewer on its load."""
        if user_id in self.load:
            self.load[user_id] -= 1


def route(site: HostSite, *, from_level: int = 0) -> tuple[User | None, int]:
    """Who takes one task of `site` at `from_level` (or the next level up): `Routing.pick`.

    A site without a course nurse or medical assistant, of its own or at its pôle mère, sends
    its tasks to the territory manager (level 1).
    """
    return Routing([site]).pick(site, from_level=from_level)


# --- Pending exams ----------------------------------------------------------------------------


def expected_by_for(kind: str, ordered_on: Date) -> Date:
    days = settings.RELEVE_EXAM_EXPECTED_DAYS.get(kind, settings.RELEVE_EXAM_EXPECTED_DAYS["other"])
    return ordered_on + timedelta(days=days)


def check_can_record(vacation: Vacation, *, today: Date) -> None:
    if vacation.status not in (Vacation.Status.BOOKED, Vacation.Status.DONE):
        raise _invalid(_("Exams are recorded for a booked or completed day."))
    if vacation.date > today:
        raise _invalid(_("Exams are recorded on or after the day."))


def _new_exam(vacation: Vacation, *, by, fields: dict, today: Date) -> PendingExam:
    fields = {key: fields.get(key) for key in EXAM_FIELDS if key in fields}
    fields.setdefault("ordered_on", vacation.date)
    if fields.get("ordered_on") is None:
        fields["ordered_on"] = vacation.date
    if not fields.get("expected_by") and fields.get("kind"):
        fields["expected_by"] = expected_by_for(fields["kind"], fields["ordered_on"])
    for key in ("patient_ref", "order_number", "description", "performer", "patient_initials"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip()
    if isinstance(fields.get("patient_initials"), str):
        fields["patient_initials"] = fields["patient_initials"].upper().replace(".", "")
    exam = PendingExam(
        vacation=vacation,
        site_id=vacation.site_id,
        prescriber_id=vacation.volunteer_id,
        created_by=by,
        **{key: value for key, value in fields.items() if value is not None},
    )
    exam.full_clean(exclude=["vacation", "site", "prescriber", "created_by"], validate_unique=False)
    if exam.expected_by < exam.ordered_on:
        raise ValidationError(
            {"expected_by": [_("The result cannot be expected before the order.")]}
        )
    return exam


@transaction.atomic
def exams_record(*, vacation: Vacation, by, rows: list[dict], now=None) -> list[PendingExam]:
    """Record several exams of one day at once: all of them, or none.

    A `ValidationError` names the row and field (`rows.2.patient_ref`); an order number already
    used at the site answers `409 duplicate_order_number`.
    """
    now = now or timezone.now()
    vacation = Vacation.objects.select_for_update().get(pk=vacation.pk)
    check_can_record(vacation, today=timezone.localdate(now))
    if not vacation.volunteer_id:
        raise _invalid(_("This day has no volunteer."))
    exams, errors = [], {}
    for index, row in enumerate(rows):
        try:
            exams.append(_new_exam(vacation, by=by, fields=row, today=timezone.localdate(now)))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"rows.{index}.{field}" if len(rows) > 1 else field] = messages
    if errors:
        raise ValidationError(errors)
    numbers = [exam.order_number for exam in exams]
    taken = set(
        PendingExam.objects.filter(site_id=vacation.site_id, order_number__in=numbers).values_list(
            "order_number", flat=True
        )
    )
    if taken or len(set(numbers)) != len(numbers):
        duplicate = sorted(taken) or sorted({n for n in numbers if numbers.count(n) > 1})
        raise DomainError(
            "duplicate_order_number",
            _("Order number %(number)s is already used at this site.") % {"number": duplicate[0]},
            field="order_number",
        )
    try:
        with transaction.atomic():
            for exam in exams:
                save_tracked(exam, by=by)
    except IntegrityError as exc:  # a concurrent insert of the same number
        raise DomainError(
            "duplicate_order_number",
            _("This order number is already used at this site."),
            field="order_number",
        ) from exc
    if vacation.no_exams:
        vacation.no_exams = False
        save_tracked(vacation, by=by, fields=["no_exams"])
    return exams


@transaction.atomic
def exam_cancel(*, exam: PendingExam, by, reason: str = "", now=None) -> PendingExam:
    """The exam won't be done: its reason is kept as the review note (never an NIR)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    _reject_nir_in("reason", reason)
    exam = PendingExam.objects.select_for_update().get(pk=exam.pk)
    if exam.status != Exam.AWAITING:
        raise _invalid(_("Only an exam still awaiting its result can be cancelled."))
    exam.status = Exam.CANCELLED
    exam.review_note = reason[:4000]
    save_tracked(exam, by=by)
    finish_tasks(exam.tasks.filter(kind__in=[Task.Kind.CHASE_RESULT]), by=by, now=now, note=reason)
    return exam


def finish_tasks(tasks, *, by, now, note: str = "", field: str = "note") -> None:
    """Mark the active ones among `tasks` done (each saved: its history keeps the change).

    `note` becomes each task's note: it must not hold an NIR (a `ValidationError` naming
    `field`, the caller's name for it; callers run in a transaction, so nothing is kept)."""
    _reject_nir_in(field, note)
    for task in tasks.select_for_update().filter(status__in=Task.ACTIVE_STATUSES):
        task.status = TaskStatus.DONE
        task.done_at, task.done_by = now, by
        task.note = note[:4000] or task.note
        save_tracked(task, by=by)


@transaction.atomic
def exam_receive(
    *,
    exam: PendingExam,
    by,
    abnormal: bool,
    result_summary: str = "",
    amended: bool = False,
    now=None,
) -> PendingExam:
    """A result came back (by hand or matched from a message): the nurse gets a task.

    Abnormal → urgent, due within `RELEVE_TASK_URGENT_HOURS`; otherwise due in
    `RELEVE_TASK_NORMAL_WORKING_DAYS` working days. A corrected (amended) result updates the
    exam and reopens its review task.
    """
    exam = PendingExam.objects.select_for_update().get(pk=exam.pk)
    return receive_locked(
        exam=exam,
        by=by,
        abnormal=abnormal,
        result_summary=result_summary,
        amended=amended,
        now=now,
    )


@dataclass
class Received:
    """A result received on an exam whose row lock the caller holds (read under that lock)."""

    exam: PendingExam
    abnormal: bool
    summary: str = ""
    amended: bool = False


def _check_receivable(result: Received) -> None:
    _reject_nir_in("result_summary", result.summary)
    if result.exam.status == Exam.CANCELLED:
        raise _invalid(_("This exam was cancelled."))
    if result.exam.status != Exam.AWAITING and not result.amended:
        raise _invalid(_("A result was already received for this exam."))


def receive_locked(
    *,
    exam: PendingExam,
    by,
    abnormal: bool,
    result_summary: str = "",
    amended: bool = False,
    now=None,
) -> PendingExam:
    """`exam_receive` for a caller already in a transaction holding `exam`'s row lock (the row
    read under that lock): the same rules, without a second lock or savepoint (ingestion).

    Raises before writing anything when refused, so the caller's transaction stays usable.
    """
    refusal = receive_many([Received(exam, abnormal, result_summary, amended)], by=by, now=now)[0]
    if refusal is not None:
        raise refusal
    return exam


def receive_many(
    results: list[Received], *, by, now=None, routing: Routing | None = None
) -> list[Exception | None]:
    """Results received on several exams at once (a lab's batch), each exam once, their locks
    held by the caller: the rules of `receive_locked` for each, in a fixed number of queries
    for any number of exams (the exams and their history, their tasks, the new review tasks
    with their history and messages); only an amended result whose review task exists costs
    queries of its own.

    Returns, per result, None when received or the refusal (a `DomainError` or a
    `ValidationError` naming the field) when not: a refused result writes nothing.
    """
    now = now or timezone.now()
    if len({result.exam.pk for result in results}) != len(results):
        raise ValueError("receive_many takes each exam once (a second result is another call)")
    refusals: list[Exception | None] = []
    accepted = []
    for result in results:
        try:
            _check_receivable(result)
        except (DomainError, ValidationError) as refusal:
            refusals.append(refusal)
            continue
        refusals.append(None)
        accepted.append(result)
    if not accepted:
        return refusals
    exams = [result.exam for result in accepted]
    for result in accepted:
        exam = result.exam
        exam.status = Exam.RECEIVED
        exam.received_at = now
        exam.abnormal = bool(result.abnormal)
        exam.result_summary = (result.summary or "")[:4000]
        exam.closed_at = None
    # history: written for these exams by `bulk_history_create` below
    PendingExam.objects.bulk_update(
        exams, ["status", "received_at", "abnormal", "result_summary", "closed_at"]
    )
    PendingExam.history.bulk_history_create(exams, update=True, default_user=by)
    # The exams' chase and review tasks in one read (locked: the exams' locks are held).
    tasks: dict[int, list[FollowUpTask]] = {}
    for task in Task.objects.select_for_update().filter(
        exam__in=exams, kind__in=[Task.Kind.CHASE_RESULT, Task.Kind.REVIEW_RESULT]
    ):
        tasks.setdefault(task.exam_id, []).append(task)
    chased = [
        task.pk
        for exam_tasks in tasks.values()
        for task in exam_tasks
        if task.kind == Task.Kind.CHASE_RESULT and task.status in Task.ACTIVE_STATUSES
    ]
    if chased:
        finish_tasks(Task.objects.filter(pk__in=chased), by=by, now=now, note=_("Result received."))
    new_tasks = []
    for exam in exams:
        urgent = bool(exam.abnormal)
        due = (
            now + timedelta(hours=settings.RELEVE_TASK_URGENT_HOURS)
            if urgent
            else add_working_days(
                now,
                settings.RELEVE_TASK_NORMAL_WORKING_DAYS,
                department=department_of(exam.site),
            )
        )
        title = (
            _("Review an abnormal %(kind)s result (%(ref)s)")
            if urgent
            else _("Review a %(kind)s result (%(ref)s)")
        ) % {"kind": exam.get_kind_display(), "ref": exam.patient_ref}
        priority = Task.Priority.URGENT if urgent else Task.Priority.NORMAL
        task = next((t for t in tasks.get(exam.pk, []) if t.kind == Task.Kind.REVIEW_RESULT), None)
        if task is None:
            # No concurrent creation: every path creating a review task holds the exam's lock.
            new_tasks.append(
                NewTask(exam.site, Task.Kind.REVIEW_RESULT, title, priority, due, exam=exam)
            )
            continue
        # An amended result: back to the top of the list.
        task.title = title
        task.priority = priority
        task.due_at = due
        if task.status not in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING):
            task.status = TaskStatus.OPEN
            task.done_at = task.done_by = None
        save_tracked(task, by=by)
        # One message per reopening (the history row it wrote), whenever it is sent.
        reopened = task.history.values_list("history_id", flat=True).first()
        _notify_assignee(task, kind="task_assigned", key=f"amended:{reopened}")
    tasks_create(new_tasks, now=now, routing=routing, by=by)
    return refusals


Leg = ExamLeg.Leg
LegStatus = ExamLeg.Status
# Why the treating doctor's letter is not applicable, by `treating_doctor_status`.
TreatingDoctor = PendingExam.TreatingDoctorStatus
NO_LETTER_REASONS = {
    TreatingDoctor.AT_SITE: gettext_lazy("The treating doctor works at the site."),
    TreatingDoctor.NONE: gettext_lazy("The patient has no treating doctor."),
}


def _no_letter_reason(exam: PendingExam) -> str:
    reason = NO_LETTER_REASONS.get(exam.treating_doctor_status)
    return str(reason) if reason else _("The patient's treating doctor is not known.")


def exam_legs(exam: PendingExam, *, by=None, lock: bool = False) -> dict[str, ExamLeg]:
    """The exam's legs by name, the three routing legs created pending if missing (and the
    treating doctor's once the exam says where that doctor is). See `ExamLeg`."""
    queryset = ExamLeg.objects.filter(exam=exam)
    legs = {leg.leg: leg for leg in (queryset.select_for_update() if lock else queryset)}
    for name in ExamLeg.ROUTING:
        if name not in legs:  # callers hold the exam's lock: nobody creates it meanwhile
            legs[name] = ExamLeg(exam=exam, leg=name)
            save_tracked(legs[name], by=by)
    return legs


def legs_shown(exam: PendingExam) -> list[ExamLeg]:
    """The legs to show (unsaved pending ones for those not created yet), in the legs' order:
    reads `exam.legs.all()` (prefetch it in lists)."""
    stored = {leg.leg: leg for leg in exam.legs.all()}
    shown = [stored.get(leg) or ExamLeg(exam=exam, leg=leg) for leg in ExamLeg.ROUTING]
    if Leg.TREATING_DOCTOR in stored:
        shown.append(stored[Leg.TREATING_DOCTOR])
    return shown


def _set_leg(leg: ExamLeg, *, status: str, reason: str, by, now) -> None:
    leg.status = status
    leg.reason = reason[:1000]
    if status == LegStatus.PENDING:
        leg.at = leg.by = None
    else:
        leg.at, leg.by = now, by
    save_tracked(leg, by=by)


def _mirror_booleans(exam: PendingExam, legs: dict[str, ExamLeg], *, by) -> None:
    """The exam's booleans say which routing legs are done (kept for the API's fields)."""
    changed = []
    for name, boolean in ExamLeg.BOOLEAN.items():
        value = name in legs and legs[name].status == LegStatus.DONE
        if getattr(exam, boolean) != value:
            setattr(exam, boolean, value)
            changed.append(boolean)
    if changed:
        save_tracked(exam, by=by, fields=changed)


@transaction.atomic
def exam_leg_record(
    *, exam: PendingExam, leg: str, status: str, by, reason: str = "", now=None
) -> ExamLeg:
    """Record one leg: done (now, by `by`), not applicable (a reason is required) or pending
    again (reopened). Legs are recorded once the result is received; the treating doctor's
    leg only when the patient's treating doctor is elsewhere (else it is not applicable by
    itself). The caller authorizes (`continuity.act_on_exam`)."""
    now = now or timezone.now()
    exam = PendingExam.objects.select_for_update().get(pk=exam.pk)
    reason = (reason or "").strip()
    errors = {}
    if leg not in Leg.values:
        errors["leg"] = [_("Unknown leg.")]
    if status not in LegStatus.values:
        errors["status"] = [_("Choose done, not applicable or pending.")]
    if status == LegStatus.NOT_APPLICABLE and not reason:
        errors["reason"] = [_("Say why this leg does not apply.")]
    if errors:
        raise ValidationError(errors)
    _reject_nir_in("reason", reason)
    if len(reason) > 1000:
        raise ValidationError({"reason": [_("At most 1000 characters.")]})
    if exam.status not in (Exam.RECEIVED, Exam.REVIEWED, Exam.CLOSED):
        raise _invalid(_("The legs are recorded once the exam's result is received."))
    legs = exam_legs(exam, by=by, lock=True)
    if leg == Leg.TREATING_DOCTOR:
        if exam.treating_doctor_status != PendingExam.TreatingDoctorStatus.ELSEWHERE:
            raise _invalid(
                _("The liaison letter is for a treating doctor outside the site: not here.")
            )
        if leg not in legs:  # closed before the legs were tracked
            legs[leg] = ExamLeg(exam=exam, leg=leg)
    record = legs[leg]
    _set_leg(record, status=status, reason=reason, by=by, now=now)
    _mirror_booleans(exam, legs, by=by)
    return record


CLOSE_FIELDS = (
    "responsible", "review_note", "dmp_deposited", "sent_to_patient_space",
    "sent_to_prescriber", "treating_doctor_status",
)  # fmt: skip


@transaction.atomic
def exam_close(*, exam: PendingExam, by, now=None, **fields) -> PendingExam:
    """The follow-up is done: who took clinical responsibility, and every routing leg done or
    not applicable (a boolean given true records its leg done). A routing leg still pending
    answers `409 routing_incomplete` naming it (`legs`), nothing written. Closing creates the
    treating doctor's leg: pending when that doctor is elsewhere (the liaison letter is then
    ready to send), else not applicable (see `ExamLeg`)."""
    now = now or timezone.now()
    exam = PendingExam.objects.select_for_update().get(pk=exam.pk)
    if exam.status not in (Exam.RECEIVED, Exam.REVIEWED):
        raise _invalid(_("Only an exam whose result was received can be closed."))
    errors = {}
    if fields.get("responsible") not in PendingExam.Responsible.values:
        errors["responsible"] = [_("Say who takes clinical responsibility for the follow-up.")]
    if fields.get("treating_doctor_status") not in PendingExam.TreatingDoctorStatus.values:
        errors["treating_doctor_status"] = [_("Say whether the patient has a treating doctor.")]
    if errors:
        raise ValidationError(errors)
    for key in CLOSE_FIELDS:
        if key in fields and key not in PendingExam.ROUTING_LEGS:
            setattr(exam, key, fields[key])
    exam.full_clean(exclude=["vacation", "site", "prescriber", "created_by"], validate_unique=False)
    legs = exam_legs(exam, by=by, lock=True)
    pending = [
        name
        for name in ExamLeg.ROUTING
        if legs[name].status == LegStatus.PENDING and not fields.get(ExamLeg.BOOLEAN[name])
    ]
    if pending:
        labels = ", ".join(str(Leg(name).label) for name in pending)
        raise DomainError(
            "routing_incomplete",
            _("Before closing, record each leg as done or not applicable: %(legs)s.")
            % {"legs": labels},
            extra={"legs": pending},
        )
    for name in ExamLeg.ROUTING:
        if fields.get(ExamLeg.BOOLEAN[name]) and legs[name].status != LegStatus.DONE:
            _set_leg(legs[name], status=LegStatus.DONE, reason="", by=by, now=now)
    letter = legs.get(Leg.TREATING_DOCTOR) or ExamLeg(exam=exam, leg=Leg.TREATING_DOCTOR)
    if exam.treating_doctor_status == PendingExam.TreatingDoctorStatus.ELSEWHERE:
        if letter.pk is None or letter.status == LegStatus.NOT_APPLICABLE:
            _set_leg(letter, status=LegStatus.PENDING, reason="", by=by, now=now)
    else:
        _set_leg(
            letter, status=LegStatus.NOT_APPLICABLE, reason=_no_letter_reason(exam), by=by, now=now
        )
    legs[Leg.TREATING_DOCTOR] = letter
    for name, boolean in ExamLeg.BOOLEAN.items():
        setattr(exam, boolean, legs[name].status == LegStatus.DONE)
    exam.status = Exam.CLOSED
    exam.reviewed_at = exam.reviewed_at or now
    exam.closed_at, exam.closed_by = now, by
    save_tracked(exam, by=by)
    finish_tasks(
        exam.tasks.filter(
            kind__in=[
                Task.Kind.REVIEW_RESULT,
                Task.Kind.CONTACT_PRESCRIBER,
                Task.Kind.INFORM_PATIENT,
            ]
        ),
        by=by,
        now=now,
        note=exam.review_note,
    )
    return exam


# --- Tasks ------------------------------------------------------------------------------------


@dataclass
class NewTask:
    """A task to create: routed to whoever answers for its site (`Routing`) when created."""

    site: HostSite
    kind: str
    title: str
    priority: str
    due_at: datetime
    exam: PendingExam | None = None
    incoming: IncomingResult | None = None


def task_open(
    *,
    site: HostSite,
    kind: str,
    title: str,
    priority: str,
    due_at: datetime,
    exam: PendingExam | None = None,
    incoming: IncomingResult | None = None,
    now=None,
) -> tuple[FollowUpTask, bool]:
    """Create a task routed to the site's course nurse (or up), once per exam/message and kind."""
    if exam is not None or incoming is not None:
        existing = Task.objects.filter(kind=kind, exam=exam, incoming=incoming).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            [task] = tasks_create(
                [NewTask(site, kind, title, priority, due_at, exam=exam, incoming=incoming)],
                now=now,
            )
    except IntegrityError:  # a concurrent run created it first
        return Task.objects.get(kind=kind, exam=exam, incoming=incoming), False
    return task, True


def tasks_create(
    new: list[NewTask], *, now=None, routing: Routing | None = None, by=None
) -> list[FollowUpTask]:
    """Create tasks that cannot exist yet (the caller holds the lock of their exam, or their
    message is its own, new row) — `task_open` without the lookup: each routed by `Routing`
    (the least busy first, the loads counted as the tasks are handed out), inserted with its
    history, its assignee told. A fixed number of queries for any number of tasks.
    """
    if not new:
        return []
    now = now or timezone.now()
    routing = routing or Routing([spec.site for spec in new])
    tasks = []
    for spec in new:
        assignee, level = routing.pick(spec.site)
        tasks.append(
            Task(
                site=spec.site,
                exam=spec.exam,
                incoming=spec.incoming,
                kind=spec.kind,
                title=spec.title[:200],
                priority=spec.priority,
                due_at=spec.due_at,
                assignee=assignee,
                escalation_level=level,
                escalated_at=now if level else None,
                created_at=now,
            )
        )
    Task.objects.bulk_create(tasks)
    Task.history.bulk_history_create(tasks, default_user=by)
    notify_many(
        (
            _assignee_message(
                task,
                kind="task_escalated" if task.escalation_level else "task_assigned",
                key="created",
            )
            for task in tasks
            if task.assignee_id is not None
        ),
        new_keys=True,  # each key names a row created here
    )
    return tasks


# Messages about follow-up say what kind of thing waits and where, and link to its page (which
# records the reading): never a patient reference, an order number or free clinical text
# (a task's title names the patient; a question or an answer is written freely). An email
# leaves our hands, and the inbox follows the same rule.


def _notify_assignee(
    task: FollowUpTask, *, kind: str, key: str, reason: str = "", new_key: bool = False
) -> None:
    if task.assignee_id is None:
        return
    message = _assignee_message(task, kind=kind, key=key, reason=reason)
    notify(
        users=message.users,
        kind=message.kind,
        context=message.context,
        dedupe_key=message.dedupe_key,
        new_key=new_key,
    )


def _assignee_message(task: FollowUpTask, *, kind: str, key: str, reason: str = "") -> Message:
    return Message(
        users=[task.assignee],
        kind=kind,
        context={
            # Lazy labels: each recipient reads them in its own language.
            "task_kind": Task.Kind(task.kind).label,
            "site": str(task.site),
            "due": timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M"),
            "priority": Task.Priority(task.priority).label,
            "level": Task.Level(task.escalation_level).label,
            "reason": reason,
            "url": _site_url(f"/suivi/taches/{task.pk}/"),
        },
        dedupe_key=f"{kind}:{task.pk}:{task.escalation_level}:{key}",
    )


def _lock_task(task: FollowUpTask) -> FollowUpTask:
    return Task.objects.select_for_update().select_related("site").get(pk=task.pk)


@transaction.atomic
def task_start(*, task: FollowUpTask, by) -> FollowUpTask:
    task = _lock_task(task)
    if task.status != TaskStatus.OPEN:
        raise _invalid(_("Only a task to do can be started."))
    task.status = TaskStatus.IN_PROGRESS
    if task.assignee_id is None:
        task.assignee = by
    save_tracked(task, by=by)
    return task


@transaction.atomic
def task_done(*, task: FollowUpTask, by, note: str = "", now=None) -> FollowUpTask:
    now = now or timezone.now()
    # The exam first, then the task: the order every service locks them in.
    reviewed = (
        PendingExam.objects.select_for_update().filter(pk=task.exam_id).first()
        if task.exam_id and task.kind == Task.Kind.REVIEW_RESULT
        else None
    )
    task = _lock_task(task)
    if task.status not in Task.ACTIVE_STATUSES:
        raise _invalid(_("This task is already finished."))
    if (
        task.kind == Task.Kind.RESOLVE_QUARANTINE
        and task.incoming.outcome == (IncomingResult.Outcome.QUARANTINED)
        and not task.incoming.resolved_at
    ):
        raise _invalid(_("Match the result to an exam (or dismiss it) first."))
    _reject_nir_in("note", note)
    task.status = TaskStatus.DONE
    task.note = note[:4000] if note else task.note
    task.done_at, task.done_by = now, by
    save_tracked(task, by=by)
    if reviewed is not None and reviewed.status == Exam.RECEIVED:
        reviewed.status, reviewed.reviewed_at = Exam.REVIEWED, now
        save_tracked(reviewed, by=by, fields=["status", "reviewed_at"])
    return task


# --- Questions to the prescriber --------------------------------------------------------------


@transaction.atomic
def contact_prescriber(*, task: FollowUpTask, by, question: str, now=None) -> ContactRequest:
    """Ask the prescribing volunteer; the task waits, due when the volunteer committed to answer."""
    now = now or timezone.now()
    task = _lock_task(task)
    question = (question or "").strip()
    if not question:
        raise ValidationError({"question": [_("Write your question.")]})
    if task.status not in Task.ACTIVE_STATUSES:
        raise _invalid(_("This task is already finished."))
    if task.exam_id is None:
        raise _invalid(_("Only a task about an exam has a prescriber to ask."))
    volunteer = task.exam.prescriber
    commitment = volunteer.current_commitment(today=timezone.localdate(now))
    hours = commitment.response_hours if commitment else 72
    request = ContactRequest(
        task=task,
        volunteer=volunteer,
        asked_by=by,
        question=question,
        asked_at=now,
        due_at=add_working_hours(now, hours, department=department_of(task.site)),
    )
    request.full_clean(exclude=["task", "volunteer", "asked_by"])
    save_tracked(request, by=by)
    task.status = TaskStatus.WAITING
    task.due_at = request.due_at
    save_tracked(task, by=by)
    notify(
        users=[volunteer.user],
        kind="contact_request",
        context={
            "site": str(task.site),
            "exam": ExamKind(task.exam.kind).label,
            "due": timezone.localtime(request.due_at).strftime("%d/%m/%Y %H:%M"),
            "url": _site_url(f"/suivi/mes-suivis/#question-{request.pk}"),
        },
        dedupe_key=f"contact_request:{request.pk}",
    )
    return request


@transaction.atomic
def contact_answer(*, request: ContactRequest, by, answer: str, now=None) -> ContactRequest:
    now = now or timezone.now()
    request = ContactRequest.objects.select_for_update().select_related("task").get(pk=request.pk)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": [_("Write your answer.")]})
    if request.status != ContactRequest.Status.WAITING:
        raise _invalid(_("This question was already answered."))
    request.answer = answer
    request.full_clean(exclude=["task", "volunteer", "asked_by"])
    request.status = ContactRequest.Status.ANSWERED
    request.answered_at = now
    save_tracked(request, by=by)
    task = _lock_task(request.task)
    if task.status == TaskStatus.WAITING and not task.contact_requests.filter(
        status=ContactRequest.Status.WAITING
    ).exclude(pk=request.pk):
        task.status = TaskStatus.IN_PROGRESS
        task.due_at = now + timedelta(hours=settings.RELEVE_ESCALATION_HOURS[task.priority])
        save_tracked(task, by=by)
    notify(
        users=[request.asked_by, *([task.assignee] if task.assignee_id else [])],
        kind="contact_answered",
        context={
            "site": str(task.site),
            "task_kind": Task.Kind(task.kind).label,
            "url": _site_url(f"/suivi/taches/{task.pk}/"),
        },
        dedupe_key=f"contact_answered:{request.pk}",
    )
    return request


# --- Handovers and the day's closure ----------------------------------------------------------


def _clean_refs(refs) -> list[str]:
    if isinstance(refs, str):
        refs = refs.replace(",", "\n").splitlines()
    cleaned = [str(ref).strip()[:40] for ref in refs or [] if str(ref).strip()]
    for ref in cleaned:
        try:
            reject_nir(ref)
        except ValidationError as exc:
            raise ValidationError({"patient_refs": exc.messages}) from exc
    return cleaned[:100]


@transaction.atomic
def handover_write(*, vacation: Vacation, by, text: str, patient_refs=(), now=None) -> Handover:
    now = now or timezone.now()
    vacation = Vacation.objects.select_for_update().get(pk=vacation.pk)
    check_can_record(vacation, today=timezone.localdate(now))
    handover = Handover(
        vacation=vacation,
        author=by,
        text=(text or "").strip(),
        patient_refs=_clean_refs(patient_refs),
        created_at=now,
    )
    handover.full_clean(exclude=["vacation", "author"])
    save_tracked(handover, by=by)
    return handover


def record_reads(handovers, *, reader, now=None) -> None:
    """Keep who read which handover, and when (each reading)."""
    now = now or timezone.now()
    HandoverRead.objects.bulk_create(
        [HandoverRead(handover=handover, reader=reader, read_at=now) for handover in handovers]
    )


def closure_missing(vacation: Vacation, no_exams: bool) -> list[str]:
    """What still keeps a day from being closed: its exams (or "none") and its handover."""
    missing = []
    # Both questions in one query (the day's page asks them on every visit).
    has_exams, has_handover = (
        Vacation.objects.filter(pk=vacation.pk)
        .annotate(
            has_exams=Exists(
                PendingExam.objects.filter(vacation=OuterRef("pk")).exclude(status=Exam.CANCELLED)
            ),
            has_handover=Exists(Handover.objects.filter(vacation=OuterRef("pk"))),
        )
        .values_list("has_exams", "has_handover")
        .get()
    )
    if not has_exams and not (no_exams or vacation.no_exams):
        missing.append(_("list the exams prescribed, or state that none was"))
    if not has_handover:
        missing.append(_("write the handover"))
    return missing


@transaction.atomic
def day_close(
    *,
    vacation: Vacation,
    by,
    consultations_count: int,
    no_exams: bool = False,
    now: datetime | None = None,
) -> Vacation:
    """Close a day: its exams listed (or "none"), its handover written, then `done`.

    The gate of continuity of care lives here; the transition (and its indemnity) is the
    vacations app's `vacation_complete`. Else `409 closure_incomplete`, nothing written.
    """
    now = now or timezone.now()
    vacation = Vacation.objects.select_for_update().get(pk=vacation.pk)
    # The day's own refusals first (not booked, too early): closing is not the question yet.
    vacations.check_completable(vacation, consultations_count=consultations_count, now=now)
    missing = closure_missing(vacation, no_exams)
    if missing:
        raise DomainError(
            "closure_incomplete",
            _("Before closing the day: %(missing)s.") % {"missing": "; ".join(missing)},
        )
    return vacations.vacation_complete(
        vacation=vacation,
        by=by,
        consultations_count=consultations_count,
        no_exams=no_exams,
        now=now,
    )


# --- Jobs -------------------------------------------------------------------------------------


def overdue_exams(*, now=None) -> int:
    """One `chase_result` task per exam still awaiting after its expected date.

    In batches, each in its transaction: its exams locked and read again (still overdue, still
    unchased), their tasks created together (`tasks_create`: routed, with history and
    messages) — a fixed number of queries per batch whatever its size (issue 14)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    pks = list(
        PendingExam.objects.overdue(today=today)
        .exclude(tasks__kind=Task.Kind.CHASE_RESULT)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    created = 0
    for start in range(0, len(pks), CHASE_BATCH):
        batch = pks[start : start + CHASE_BATCH]
        try:
            created += _chase_batch(batch, now=now, today=today)
        except IntegrityError:  # another run chased some of them meanwhile: one by one
            for exam in _unchased(batch, today=today):
                with transaction.atomic():
                    created += task_open(**vars(_chase_spec(exam, now=now)), now=now)[1]
    return created


CHASE_BATCH = 500


def _unchased(pks: list[int], *, today):
    return (
        PendingExam.objects.overdue(today=today)
        .filter(pk__in=pks)
        .exclude(tasks__kind=Task.Kind.CHASE_RESULT)
        .select_related("site__territory")
        .order_by("pk")
    )


def _chase_spec(exam: PendingExam, *, now) -> NewTask:
    return NewTask(
        exam.site,
        Task.Kind.CHASE_RESULT,
        _("Chase the %(kind)s result expected on %(date)s (%(ref)s)")
        % {
            "kind": exam.get_kind_display(),
            "date": exam.expected_by.strftime("%d/%m/%Y"),
            "ref": exam.patient_ref,
        },
        Task.Priority.NORMAL,
        add_working_days(now, 1, department=department_of(exam.site)),
        exam=exam,
    )


@transaction.atomic
def _chase_batch(pks: list[int], *, now, today) -> int:
    # Under the exams' locks nobody else opens their chase task (this job is the only one
    # that does, and every task about an exam is created holding its lock).
    exams = list(_unchased(pks, today=today).select_for_update(of=("self",)))
    return len(tasks_create([_chase_spec(exam, now=now) for exam in exams], now=now))


@transaction.atomic
def escalate(task: FollowUpTask, *, now=None) -> Escalation | None:
    """Move an overdue task one level up (nurse → territory manager → ARS), once per deadline."""
    now = now or timezone.now()
    task = _lock_task(task)
    if not task.is_overdue(now) or task.escalation_level >= Task.Level.ARS:
        return None
    waiting = task.contact_requests.filter(status=ContactRequest.Status.WAITING).first()
    if waiting is not None:
        reason = _("The prescriber did not answer by %(due)s.")
    else:
        reason = _("Not done by %(due)s.")
    reason %= {"due": timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M")}
    assignee, level = route(task.site, from_level=task.escalation_level + 1)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                task=task,
                missed_due_at=task.due_at,
                from_level=task.escalation_level,
                to_level=level,
                from_user=task.assignee,
                to_user=assignee,
                reason=reason,
                at=now,
            )
    except IntegrityError:
        return None
    task.escalation_level = level
    task.assignee = assignee or task.assignee
    task.escalated_at = now
    task.due_at = now + timedelta(hours=settings.RELEVE_ESCALATION_HOURS[task.priority])
    save_tracked(task, by=None, reason="escalated")
    _notify_assignee(task, kind="task_escalated", key=escalation.pk, reason=reason)
    return escalation


ESCALATION_BATCH = 1000


def escalate_tasks(*, now=None) -> int:
    """Escalate every overdue task by one level; remind volunteers halfway through a question.

    The outcome of `escalate` on each task in deadline order, in batches (issue 14 § 2: a
    national backlog in one cycle): per batch, a fixed number of queries whatever its size —
    the tasks locked, the people who answer at each level of their sites, their loads, the
    escalations written, the tasks updated with their history, the notifications in bulk.
    The least-busy choice sees the loads move as the batch assigns tasks, as one-by-one would.
    """
    now = now or timezone.now()
    remind_contact_requests(now=now)
    overdue = Task.objects.overdue(now=now).filter(escalation_level__lt=Task.Level.ARS)
    pks = list(overdue.order_by("due_at", "pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(pks), ESCALATION_BATCH):
        done += _escalate_batch(pks[start : start + ESCALATION_BATCH], now=now)
    return done


@transaction.atomic
def _escalate_batch(pks: list[int], *, now) -> int:
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(pk__in=pks)
        .filter(Task.overdue_q(now), escalation_level__lt=Task.Level.ARS)
        .select_related("site__territory__department", "assignee")
        .order_by("due_at", "pk")
    )
    if not tasks:
        return 0
    waiting = set(
        ContactRequest.objects.filter(
            task__in=tasks, status=ContactRequest.Status.WAITING
        ).values_list("task_id", flat=True)
    )
    already = set(Escalation.objects.filter(task__in=tasks).values_list("task_id", "missed_due_at"))
    routing = Routing({task.site_id for task in tasks})
    escalations, changed = [], []
    for task in tasks:
        if (task.pk, task.due_at) in already:
            continue  # escalated for this deadline already (`escalation_once_per_deadline`)
        reason = (
            _("The prescriber did not answer by %(due)s.")
            if task.pk in waiting
            else _("Not done by %(due)s.")
        ) % {"due": timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M")}
        assignee, level = routing.pick(task.site_id, from_level=task.escalation_level + 1)
        escalations.append(
            Escalation(
                task=task,
                missed_due_at=task.due_at,
                from_level=task.escalation_level,
                to_level=level,
                from_user=task.assignee,
                to_user=assignee,
                reason=reason,
                at=now,
            )  # fmt: skip
        )
        if assignee is not None and assignee.pk != task.assignee_id:
            routing.hand_over(task.assignee_id)
        elif assignee is not None:  # the same person keeps it: no new task on its load
            routing.hand_over(assignee.pk)
        task.escalation_level = level
        task.assignee = assignee or task.assignee
        task.escalated_at = now
        task.due_at = now + timedelta(hours=settings.RELEVE_ESCALATION_HOURS[task.priority])
        changed.append((task, reason))
    if not escalations:
        return 0
    Escalation.objects.bulk_create(escalations)
    # One UPDATE per (level, assignee, priority): the tasks of a group get the same values.
    groups: dict[tuple, list[int]] = {}
    for task, _reason in changed:
        key = (task.escalation_level, task.assignee_id, task.due_at)
        groups.setdefault(key, []).append(task.pk)
    for (level, assignee_id, due_at), group in groups.items():
        # history: written for the whole batch by `bulk_history_create` below
        Task.objects.filter(pk__in=group).update(
            escalation_level=level, assignee_id=assignee_id, escalated_at=now, due_at=due_at
        )
    Task.history.bulk_history_create(
        [task for task, _reason in changed],
        update=True,
        default_change_reason="escalated",
        batch_size=500,
    )
    notify_many(
        _assignee_message(task, kind="task_escalated", key=escalation.pk, reason=reason)
        for (task, reason), escalation in zip(changed, escalations, strict=True)
        if task.assignee_id is not None
    )
    return len(escalations)


def remind_contact_requests(*, now=None) -> int:
    """Remind the volunteer once, at half of its committed delay, of a question still open
    (all of a run's reminders written at once; the dedupe key makes a second run a no-op)."""
    now = now or timezone.now()
    waiting = ContactRequest.objects.filter(
        status=ContactRequest.Status.WAITING, due_at__gt=now
    ).select_related("volunteer__user", "task__site")
    reminders = [
        Message(
            users=[request.volunteer.user],
            kind="contact_reminder",
            context={
                "site": str(request.task.site),
                "due": timezone.localtime(request.due_at).strftime("%d/%m/%Y %H:%M"),
                "url": _site_url(f"/suivi/mes-suivis/#question-{request.pk}"),
            },
            dedupe_key=f"contact_reminder:{request.pk}",
        )
        for request in waiting
        if now >= request.asked_at + (request.due_at - request.asked_at) / 2
    ]
    return len(notify_many(reminders))
