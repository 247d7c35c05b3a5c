"""Continuity of care (DESIGN.md § The core loop, steps 4–6).

A volunteer's day leaves `PendingExam`s; their results come back by hand or as messages
(`IncomingResult`, stored raw before anything else); each result becomes a `FollowUpTask` for the
site's course nurse, who may ask the prescriber (`ContactRequest`); a task past due escalates
(`Escalation`); `Handover`s carry what the next person must know. Every model with patient
references keeps its history, and every display of them writes an `AccessRecord`.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.querying import InArray
from continuity.validators import reject_nir, validate_birth_year, validate_initials
from sites.models import HostSite
from vacations.models import PARIS, Vacation
from volunteers.models import Volunteer


def _sites_of(user):
    return HostSite.objects.in_scope_of(user)


# A volunteer reaches a site's patient data only through a day it holds: booked there, or
# worked (done). A mere request (no acceptance, withdrawable at once) opens nothing.
HOLDING_STATUSES = (Vacation.Status.BOOKED, Vacation.Status.DONE)


def _held_days(user):
    """The days `user` holds as a volunteer (booked or done)."""
    return Vacation.objects.filter(volunteer__user=user, status__in=HOLDING_STATUSES)


# The scope filters below are ORs of branches that each use an index (`InArray`: no join and
# no hashed sub-plan inside the OR); tests/config/test_scope_rewrite.py proves they return the
# rows of the joined predicates they replace.


def _in_sites_of(user, field: str = "site_id") -> InArray:
    return InArray(field, _sites_of(user).values("pk"))


class ExamKind(models.TextChoices):
    BIOLOGY = "biology", _("Biology")
    IMAGING = "imaging", _("Imaging")
    PATHOLOGY = "pathology", _("Pathology")
    ECG = "ecg", _("ECG")
    SPECIALIST = "specialist", _("Specialist opinion")
    OTHER = "other", _("Other")


class PendingExamQuerySet(models.QuerySet):
    def visible_to(self, user) -> PendingExamQuerySet:
        """Site staff and managers: the exams of the sites in their scope; a volunteer: the
        exams it prescribed on a day it holds (booked or done)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(_in_sites_of(user))
            | (
                Q(InArray("prescriber_id", Volunteer.objects.filter(user=user).values("pk")))
                & Q(InArray("vacation_id", _held_days(user).values("pk")))
            )
        )

    def overdue(self, *, today=None) -> PendingExamQuerySet:
        return self.filter(PendingExam.overdue_q(today))

    def open(self) -> PendingExamQuerySet:
        return self.exclude(status__in=[PendingExam.Status.CLOSED, PendingExam.Status.CANCELLED])


class PendingExam(models.Model):
    """An exam prescribed during a day, whose result must reach someone who acts on it."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting result")
        RECEIVED = "received", _("Result received")
        REVIEWED = "reviewed", _("Reviewed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    class Responsible(models.TextChoices):
        VOLUNTEER = "volunteer", _("The volunteer (remotely or by teleconsultation)")
        SITE_DOCTOR = "site_doctor", _("A doctor of the site")
        TREATING_DOCTOR = "treating_doctor", _("The patient's treating doctor")

    class TreatingDoctorStatus(models.TextChoices):
        AT_SITE = "at_site", _("Has a treating doctor at this site")
        ELSEWHERE = "elsewhere", _("Has a treating doctor elsewhere")
        NONE = "none", _("Has no treating doctor")

    vacation = models.ForeignKey(
        Vacation, on_delete=models.PROTECT, related_name="pending_exams", verbose_name=_("day")
    )
    site = models.ForeignKey(
        HostSite, on_delete=models.PROTECT, related_name="pending_exams", verbose_name=_("site")
    )
    prescriber = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        related_name="prescribed_exams",
        verbose_name=_("prescriber"),
    )
    patient_ref = models.CharField(
        _("patient reference"),
        max_length=40,
        validators=[reject_nir],
        help_text=_("The reference of the patient in the site's own records."),
    )
    patient_initials = models.CharField(
        _("patient initials"), max_length=3, validators=[validate_initials]
    )
    patient_birth_year = models.PositiveSmallIntegerField(
        _("patient birth year"), validators=[validate_birth_year]
    )
    kind = models.CharField(_("kind of exam"), max_length=20, choices=ExamKind.choices)
    description = models.CharField(_("description"), max_length=300, validators=[reject_nir])
    order_number = models.CharField(_("order number"), max_length=64)
    ordered_on = models.DateField(_("ordered on"))
    expected_by = models.DateField(_("result expected by"))
    performer = models.CharField(_("laboratory or radiology"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.AWAITING
    )
    received_at = models.DateTimeField(_("result received at"), null=True, blank=True)
    abnormal = models.BooleanField(_("abnormal result"), null=True, blank=True)
    result_summary = models.TextField(
        _("result summary"), blank=True, validators=[MaxLengthValidator(4000), reject_nir]
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    responsible = models.CharField(
        _("clinical responsibility for the follow-up"),
        max_length=20,
        choices=Responsible.choices,
        blank=True,
    )
    treating_doctor_status = models.CharField(
        _("treating doctor"), max_length=10, choices=TreatingDoctorStatus.choices, blank=True
    )
    review_note = models.TextField(
        _("review note"), blank=True, validators=[MaxLengthValidator(4000), reject_nir]
    )
    dmp_deposited = models.BooleanField(_("deposited in the DMP"), default=False)
    sent_to_patient_space = models.BooleanField(_("sent to Mon espace santé"), default=False)
    sent_to_prescriber = models.BooleanField(_("sent to the prescribing volunteer"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    history = HistoricalRecords()
    objects = PendingExamQuerySet.as_manager()

    class Meta:
        verbose_name = _("pending exam")
        verbose_name_plural = _("pending exams")
        ordering = ["expected_by", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "order_number"], name="exam_order_number_unique_per_site"
            )
        ]
        indexes = [
            models.Index(fields=["status", "expected_by"]),
            # The dashboards read the exams closed in a period (`closed_between_q`).
            models.Index(fields=["status", "closed_at"], name="exam_status_closed_at_idx"),
            # Ingestion looks an order number up among the sender's sites (a list of them).
            models.Index(fields=["order_number"], name="exam_order_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number} · {self.get_kind_display()} · {self.patient_ref}"

    # The booleans mirroring the routing legs (`ExamLeg`): True when the leg is done. Written
    # by `services.exam_leg_record` and `services.exam_close` only; kept so that the API's
    # fields keep their names.
    ROUTING_LEGS = ("dmp_deposited", "sent_to_patient_space", "sent_to_prescriber")

    @staticmethod
    def overdue_q(today: Date | None = None) -> Q:
        """Still awaiting its result after the expected date (Paris days): the one definition
        of an overdue exam (the tracker, the API, the `overdue_exams` job, the dashboards)."""
        today = today or timezone.localdate()
        return Q(status=PendingExam.Status.AWAITING, expected_by__lt=today)

    @staticmethod
    def closed_between_q(start: Date | None = None, end: Date | None = None) -> Q:
        """Closed on a Paris day from `start` to `end` (inclusive; either may be open)."""
        q = Q(status=PendingExam.Status.CLOSED)
        if start is not None:
            q &= Q(closed_at__gte=datetime.combine(start, time(), tzinfo=PARIS))
        if end is not None:
            q &= Q(closed_at__lt=datetime.combine(end + timedelta(days=1), time(), tzinfo=PARIS))
        return q

    @classmethod
    def leg_missing_q(cls) -> Q:
        """Closed with at least one leg pending (`ExamLeg` § the queue): the nurse's queue
        "closed with a leg pending" and the dashboards' figures.

        An uncorrelated `IN`: the country's pending legs are few (a few thousand), read once
        into a hash; a correlated EXISTS probed the legs' index once per exam counted (two
        seconds for a national dashboard's 100,000 exams)."""
        pending = ExamLeg.objects.filter(status=ExamLeg.Status.PENDING).values("exam")
        return Q(status=PendingExam.Status.CLOSED, pk__in=pending)

    @property
    def leg_missing(self) -> bool:
        """`leg_missing_q` for one exam (reads its legs: prefetch `legs` in lists)."""
        return self.status == self.Status.CLOSED and any(
            leg.status == ExamLeg.Status.PENDING for leg in self.legs.all()
        )


class ExamLeg(models.Model):
    """One step of a result's routing, tracked: pending, done (when, by whom) or not applicable
    (why, e.g. the patient opposed the DMP). Seed 000 (FemasAURA&Co), l. 82–84: every exam is
    deposited in the DMP, sent to the patient's Mon espace santé and to the prescribing
    volunteer; issue 13 § 3 adds the patient's own doctor (médecin traitant).

    The rules, precisely:

    - The three routing legs (`dmp`, `patient_space`, `prescriber`) belong to every exam; their
      rows are created pending the first time the exam's legs are read for a change
      (`services.exam_legs`), and shown pending until then.
    - The `treating_doctor` leg is the sending of the liaison letter to the patient's treating
      doctor. It is born when the exam is closed, because that is when the site records where
      the patient's treating doctor is (`treating_doctor_status`) and when the letter is
      produced: pending when the doctor is `elsewhere` (the letter waits to be sent through the
      site's secure messaging), else not applicable with the reason (at the site / none).
    - Closing is refused (`409 routing_incomplete`, naming them) while one of the legs that
      exist before the closing — the three routing legs — is pending. The letter is the
      closing's product, so it is sent after: an exam may be closed with its `treating_doctor`
      leg pending, and that is what the queue below is for.
    - The queue "closed with a leg pending" (`PendingExam.leg_missing_q`): closed exams with
      at least one pending leg — the letter not yet sent, an exam closed before the legs were
      tracked whose boolean was false (migrated as pending), or a leg reopened (recorded
      pending again) after the closing. An exam leaves it when each leg is done or not
      applicable.
    - Done needs when and by whom; not applicable needs a reason (database constraints).
    """

    class Leg(models.TextChoices):
        DMP = "dmp", _("Deposited in the DMP")
        PATIENT_SPACE = "patient_space", _("Sent to the patient's Mon espace santé")
        PRESCRIBER = "prescriber", _("Sent to the prescribing volunteer")
        TREATING_DOCTOR = "treating_doctor", _("Liaison letter sent to the treating doctor")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    # The legs every exam has, and the boolean of `PendingExam` each one mirrors.
    ROUTING = (Leg.DMP, Leg.PATIENT_SPACE, Leg.PRESCRIBER)
    BOOLEAN = {
        Leg.DMP: "dmp_deposited",
        Leg.PATIENT_SPACE: "sent_to_patient_space",
        Leg.PRESCRIBER: "sent_to_prescriber",
    }

    exam = models.ForeignKey(
        PendingExam, on_delete=models.CASCADE, related_name="legs", verbose_name=_("exam")
    )
    leg = models.CharField(_("leg"), max_length=20, choices=Leg.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reason = models.CharField(_("reason"), max_length=1000, blank=True, validators=[reject_nir])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("routing leg")
        verbose_name_plural = _("routing legs")
        ordering = ["exam", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "leg"], name="exam_leg_once_per_exam"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(at__isnull=False, by__isnull=False),
                name="exam_leg_done_says_when_and_who",
            ),
            models.CheckConstraint(
                condition=~Q(status="not_applicable") | ~Q(reason=""),
                name="exam_leg_not_applicable_says_why",
            ),
        ]
        indexes = [models.Index(fields=["status", "exam"])]

    def __str__(self) -> str:
        return f"{self.exam_id} · {self.leg} · {self.status}"


class IncomingResult(models.Model):
    """One message received from a lab or a radiology practice, kept exactly as it came."""

    class Format(models.TextChoices):
        HL7V2 = "hl7v2", _("HL7 v2 (ORU^R01)")
        FHIR = "fhir", _("FHIR R4 (DiagnosticReport)")

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received, not yet read")
        MATCHED = "matched", _("Matched")
        QUARANTINED = "quarantined", _("Quarantined")
        INVALID = "invalid", _("Invalid")
        # The body of a batch, kept whole; each of its messages is a row of its own.
        BATCH = "batch", _("Batch, split into messages")
        # A message answering several orders, kept whole; each order is a row of its own.
        SPLIT = "split", _("Message, split into orders")

    class Reason(models.TextChoices):
        UNKNOWN_ORDER = "unknown_order", _("Unknown order number")
        PATIENT_MISMATCH = "patient_mismatch", _("Patient does not match the exam")
        # No longer given (it told a sender that the order exists elsewhere): such a message is
        # an `unknown_order`. Kept for the rows stored before, and to need no migration.
        OUTSIDE_SCOPE = "outside_scope", _("Order number outside the sender's sites")
        EXAM_CANCELLED = "exam_cancelled", _("The exam was cancelled")
        ROUTING_FAILED = "routing_failed", _("Could not be routed")

    format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    truncated = models.BooleanField(_("stored truncated"), default=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    site = models.ForeignKey(
        HostSite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_results",
        verbose_name=_("site"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    error = models.TextField(_("error"), blank=True)
    replay_key = models.CharField(_("replay key"), max_length=200, blank=True, db_index=True)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replay of"),
    )
    order_number = models.CharField(_("order number"), max_length=200, blank=True)
    patient_ref = models.CharField(_("patient reference"), max_length=200, blank=True)
    abnormal = models.BooleanField(_("abnormal"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    report_status = models.CharField(_("report status"), max_length=20, blank=True)
    exam = models.ForeignKey(
        PendingExam,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incoming_results",
        verbose_name=_("matched exam"),
    )
    batch = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("received in batch"),
    )
    # One order of a message answering several: the raw bytes are the message's (kept once).
    message = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("order of message"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("incoming result")
        verbose_name_plural = _("incoming results")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.get_format_display()} · {self.received_at:%Y-%m-%d %H:%M} · {self.outcome}"

    @staticmethod
    def quarantined_q() -> Q:
        """Quarantined and not yet resolved (matched by hand or set aside): what the
        quarantine page lists and the dashboards count."""
        return Q(outcome=IncomingResult.Outcome.QUARANTINED, resolved_at__isnull=True)

    @classmethod
    def visible_to_q(cls, user) -> Q:
        """The messages filed at the sites in the user's scope. Every message is filed at its
        sender's site (ingestion refuses a sender with none), so having sent one opens nothing
        by itself: a secretary who left the site no longer reads what she sent from it."""
        return Q(site__in=_sites_of(user))


class TaskAge(models.TextChoices):
    """The ageing of open follow-up tasks (the dashboards' stacked bars, the worklist filter)."""

    UNDER_1_DAY = "under_1d", _("Less than 1 day")
    DAYS_1_3 = "1_3d", _("1 to 3 days")
    DAYS_3_7 = "3_7d", _("3 to 7 days")
    OVER_7_DAYS = "over_7d", _("7 days or more")


# Age in days: [low, high) — high None is open-ended.
TASK_AGE_BOUNDS: dict[str, tuple[int, int | None]] = {
    TaskAge.UNDER_1_DAY: (0, 1),
    TaskAge.DAYS_1_3: (1, 3),
    TaskAge.DAYS_3_7: (3, 7),
    TaskAge.OVER_7_DAYS: (7, None),
}


class FollowUpTaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> FollowUpTaskQuerySet:
        """The tasks of the sites in the user's scope, and those assigned to it."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(Q(_in_sites_of(user)) | Q(assignee_id=user.pk))

    def active(self) -> FollowUpTaskQuerySet:
        return self.filter(status__in=FollowUpTask.ACTIVE_STATUSES)

    def overdue(self, *, now=None) -> FollowUpTaskQuerySet:
        return self.filter(FollowUpTask.overdue_q(now))


class FollowUpTask(models.Model):
    """Something a named person must do by a deadline, escalated when it isn't done."""

    class Kind(models.TextChoices):
        REVIEW_RESULT = "review_result", _("Review a result")
        CHASE_RESULT = "chase_result", _("Chase a missing result")
        CONTACT_PRESCRIBER = "contact_prescriber", _("Contact the prescriber")
        INFORM_PATIENT = "inform_patient", _("Inform the patient")
        HANDOVER = "handover", _("Handover")
        RESOLVE_QUARANTINE = "resolve_quarantine", _("Resolve a quarantined result")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for the prescriber")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Level(models.IntegerChoices):
        NURSE = 0, _("Course nurse")
        TERRITORY = 1, _("Territory manager")
        ARS = 2, _("ARS")

    ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)

    site = models.ForeignKey(
        HostSite, on_delete=models.PROTECT, related_name="follow_up_tasks", verbose_name=_("site")
    )
    exam = models.ForeignKey(
        PendingExam,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("exam"),
    )
    incoming = models.ForeignKey(
        IncomingResult,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("incoming result"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_tasks",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(_("due"))
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=Level.choices, default=Level.NURSE
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    note = models.TextField(
        _("note"), blank=True, validators=[MaxLengthValidator(4000), reject_nir]
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )

    history = HistoricalRecords()
    objects = FollowUpTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_at", "pk"]
        constraints = [
            # One task of each kind per exam (a replayed result or a second chase run adds
            # nothing) and one quarantine task per message: the database is the proof.
            models.UniqueConstraint(
                fields=["exam", "kind"],
                condition=Q(exam__isnull=False),
                name="task_one_per_exam_and_kind",
            ),
            models.UniqueConstraint(
                fields=["incoming", "kind"],
                condition=Q(incoming__isnull=False),
                name="task_one_per_incoming_and_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, now=None) -> bool:
        return self.status in self.ACTIVE_STATUSES and self.due_at < (now or timezone.now())

    @classmethod
    def overdue_q(cls, now: datetime | None = None) -> Q:
        """Active and past its deadline: what `escalate_tasks` moves up one level (the one
        definition of an overdue task: `is_overdue`, the worklist, the API, the dashboards)."""
        return Q(status__in=cls.ACTIVE_STATUSES, due_at__lt=now or timezone.now())

    @classmethod
    def age_q(cls, bucket: str, now: datetime | None = None) -> Q:
        """Tasks whose age falls in `bucket` (`TaskAge`): the time since the task was created —
        for a result's review task, since the result arrived. Buckets are half-open:
        [0, 1 day), [1, 3 days), [3, 7 days), 7 days and more."""
        now = now or timezone.now()
        low, high = TASK_AGE_BOUNDS[bucket]
        q = Q(created_at__lte=now - timedelta(days=low)) if low else Q()
        if high is not None:
            q &= Q(created_at__gt=now - timedelta(days=high))
        return q


class Escalation(models.Model):
    """A task went up one level because its deadline passed: when, why, from whom to whom."""

    task = models.ForeignKey(
        FollowUpTask, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("task")
    )
    missed_due_at = models.DateTimeField(_("missed deadline"))
    from_level = models.PositiveSmallIntegerField(_("from level"))
    to_level = models.PositiveSmallIntegerField(_("to level"))
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("to"),
    )
    reason = models.CharField(_("reason"), max_length=300)
    at = models.DateTimeField(_("escalated at"))

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "missed_due_at"], name="escalation_once_per_deadline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.from_level} → {self.to_level}"


class ContactRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> ContactRequestQuerySet:
        """The prescriber sees those addressed to it about a day it holds (booked or done);
        site staff and managers, their sites'."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(volunteer__user=user, task__exam__vacation__in=_held_days(user).values("pk"))
            | Q(task__site__in=_sites_of(user))
        )


class ContactRequest(models.Model):
    """A question from the site to the prescribing volunteer, due within its committed delay."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered")

    task = models.ForeignKey(
        FollowUpTask,
        on_delete=models.CASCADE,
        related_name="contact_requests",
        verbose_name=_("task"),
    )
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        related_name="contact_requests",
        verbose_name=_("volunteer"),
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    question = models.TextField(_("question"), validators=[MaxLengthValidator(2000), reject_nir])
    asked_at = models.DateTimeField(_("asked at"))
    due_at = models.DateTimeField(_("answer due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    answer = models.TextField(
        _("answer"), blank=True, validators=[MaxLengthValidator(4000), reject_nir]
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = ContactRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact request")
        verbose_name_plural = _("contact requests")
        ordering = ["-asked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task} → {self.volunteer}"


class HandoverQuerySet(models.QuerySet):
    def visible_to(self, user) -> HandoverQuerySet:
        """Site staff and managers: their sites' handovers; a volunteer: those it wrote, those
        of the days it holds (booked or done), and those of a site where it is booked for an
        upcoming day. A requested day opens nothing (see `HOLDING_STATUSES`)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        booked_sites = _held_days(user).filter(
            status=Vacation.Status.BOOKED, date__gte=timezone.localdate()
        )
        return self.filter(
            Q(vacation__site__in=_sites_of(user))
            | Q(author=user)
            | Q(vacation__in=_held_days(user).values("pk"))
            | Q(vacation__site__in=booked_sites.values("site"))
        )


class Handover(models.Model):
    """Transmissions: what the team and the next volunteer must know after a day."""

    vacation = models.ForeignKey(
        Vacation, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("day")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    text = models.TextField(_("notes"), validators=[MaxLengthValidator(10000), reject_nir])
    patient_refs = models.JSONField(_("patient references to follow"), default=list, blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    history = HistoricalRecords()
    objects = HandoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.vacation} · {self.author}"


class HandoverRead(models.Model):
    """Someone read a handover (each reading is kept)."""

    handover = models.ForeignKey(
        Handover, on_delete=models.CASCADE, related_name="reads", verbose_name=_("handover")
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("reader"),
    )
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("handover reading")
        verbose_name_plural = _("handover readings")
        ordering = ["-read_at"]

    def __str__(self) -> str:
        return f"{self.reader} · {self.read_at:%Y-%m-%d %H:%M}"


class AccessRecord(models.Model):
    """Who displayed patient references, what and when (lists, pages, API answers)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    what = models.CharField(_("what"), max_length=100)
    object_id = models.CharField(_("object"), max_length=40, blank=True)
    count = models.PositiveIntegerField(_("rows shown"), default=0)
    path = models.CharField(_("address"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.what} · {self.at:%Y-%m-%d %H:%M}"
