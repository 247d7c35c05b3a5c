"""What a done day leaves behind: each side's feedback, and the incidents reported on it.

- `DayFeedback`: after a done day, its volunteer and its site each answer once (a unique
  constraint per day and side): 1–5 scores, what was missing, what went well, free text.
- `FeedbackRequest`: asking each side, and reminding it once — both stored, so the job that
  derives them from the days' state never repeats them.
- `Incident`: an adverse event or incident on a day (kind, severity, what happened, actions
  taken, at most the site's patient reference), followed until closed; its history is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from feedback.validators import validate_patient_ref
from sites.models import HostSite
from vacations.models import Vacation


class Side(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    SITE = "site", _("Host site")


SCORES = ("welcome", "organisation", "patient_load", "equipment")
MISSING = ("missing_equipment", "missing_software", "missing_accommodation", "too_many_patients")


def _score(label):
    return models.PositiveSmallIntegerField(
        label, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


class DayFeedbackQuerySet(models.QuerySet):
    def visible_to(self, user) -> DayFeedbackQuerySet:
        """One's own answers; the site's staff and its managers: every answer about the site
        (the national manager reads all, as on the dashboards)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(author=user)
            | Q(site__in=HostSite.objects.staffed_by(user))
            | Q(site__in=HostSite.objects.piloted_by(user))
        )


class DayFeedback(models.Model):
    """One side's feedback on a done day (1 = poor, 5 = very good)."""

    Side = Side

    vacation = models.ForeignKey(
        Vacation, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("day")
    )
    site = models.ForeignKey(
        HostSite, on_delete=models.PROTECT, related_name="feedback", editable=False
    )
    side = models.CharField(_("from"), max_length=10, choices=Side.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    welcome = _score(_("welcome"))
    organisation = _score(_("organisation"))
    patient_load = _score(_("patient load"))
    equipment = _score(_("equipment and software"))
    missing_equipment = models.BooleanField(_("equipment was missing"), default=False)
    missing_software = models.BooleanField(_("software access was missing"), default=False)
    missing_accommodation = models.BooleanField(_("accommodation was missing"), default=False)
    too_many_patients = models.BooleanField(_("the patient load was too heavy"), default=False)
    went_well = models.TextField(_("what went well"), max_length=2000, blank=True)
    comment = models.TextField(_("what could be better"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DayFeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("day feedback")
        verbose_name_plural = _("day feedback")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["vacation", "side"], name="feedback_once_per_side"),
            *(
                models.CheckConstraint(
                    name=f"feedback_{name}_1_to_5",
                    condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                )
                for name in SCORES
            ),
        ]
        indexes = [models.Index(fields=["site", "side"])]

    def __str__(self) -> str:
        return f"{self.vacation} — {self.get_side_display()}"

    @property
    def missing(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name) for name in MISSING if getattr(self, name)
        ]


class FeedbackRequest(models.Model):
    """A side of a done day was asked for its feedback (`asked_at`), and reminded once."""

    vacation = models.ForeignKey(Vacation, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    asked_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vacation", "side"], name="feedback_asked_once")
        ]
        indexes = [models.Index(fields=["reminded_at", "asked_at"])]

    def __str__(self) -> str:
        return f"{self.vacation_id}:{self.side}"


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user) -> IncidentQuerySet:
        """The site's staff and its managers (national: all); the reporter its own."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(reported_by=user)
            | Q(site__in=HostSite.objects.staffed_by(user))
            | Q(site__in=HostSite.objects.piloted_by(user))
        )


class Incident(models.Model):
    """An incident or adverse event on a day, followed until closed."""

    class Kind(models.TextChoices):
        PATIENT_SAFETY = "patient_safety", _("Patient safety (adverse event)")
        VIOLENCE = "violence", _("Violence or aggression")
        EQUIPMENT = "equipment", _("Equipment")
        SOFTWARE = "software", _("IT or software access")
        ORGANISATION = "organisation", _("Organisation")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe, urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    vacation = models.ForeignKey(
        Vacation, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("day")
    )
    site = models.ForeignKey(
        HostSite, on_delete=models.PROTECT, related_name="incidents", editable=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    what_happened = models.TextField(_("what happened"), max_length=4000)
    actions_taken = models.TextField(_("actions taken"), max_length=4000, blank=True)
    patient_ref = models.CharField(
        _("patient reference (optional)"),
        max_length=40,
        blank=True,
        validators=[validate_patient_ref],
        help_text=_("The site's reference of the record only (e.g. P-2031): never a name."),
    )
    status = models.CharField(
        _("follow-up"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    closing_comment = models.TextField(_("closing comment"), max_length=2000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"])]
        constraints = [
            models.CheckConstraint(
                name="incident_closed_with_comment",
                condition=~Q(status="closed")
                | (Q(closed_at__isnull=False) & ~Q(closing_comment="")),
            ),
            models.CheckConstraint(
                name="incident_known_status",
                condition=Q(status__in=["open", "in_progress", "closed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.vacation}"

    @property
    def urgent(self) -> bool:
        return self.severity == self.Severity.SEVERE
