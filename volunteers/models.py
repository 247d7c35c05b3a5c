"""Volunteer doctors: profile, verification by a territory manager, commitment, availability."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import SITE_STAFF_ROLES, Role
from sites.models import Department, HostSite, Membership, Territory
from sites.validators import validate_phone
from volunteers.validators import validate_mss_address, validate_rpps

COMMITMENT_VALIDITY = timedelta(days=365)
# What keeps a volunteer from taking a day (`Volunteer.booking_gaps`), said to the volunteer.
BOOKING_GAPS = {
    "suspended": _("your profile is suspended"),
    "verification": _("your profile must be verified by a coordinator"),
    "charter": _("you must sign the follow-up charter"),
    "charter_expired": _("you must renew the follow-up charter (signed over 12 months ago)"),
}


class Period(models.TextChoices):
    """A day or a half-day: shared by availabilities and vacations (a day overlaps both)."""

    DAY = "day", _("Full day")
    AM = "am", _("Morning")
    PM = "pm", _("Afternoon")


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class VolunteerQuerySet(models.QuerySet):
    def visible_to(self, user) -> VolunteerQuerySet:
        """A volunteer sees itself; the national manager every one (reading only); ARS managers
        the volunteers of their region (home or preferred); territory managers and site staff
        those who chose their territories, and site staff also those who chose none (ready to
        go anywhere)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        regions = Membership.objects.filter(user=user, role=Role.ARS_MANAGER).values("region")
        managed = Territory.objects.managed_by(user)
        staffed = HostSite.objects.staffed_by(user).values("territory")
        national = Membership.objects.filter(user=user, role=Role.NATIONAL_MANAGER)
        return self.filter(
            Q(user=user)
            | Q(Exists(national))
            | Q(home_department__region__in=regions)
            | Q(preferred_territories__department__region__in=regions)
            | Q(preferred_territories__in=managed)
            | Q(preferred_territories__in=staffed)
            | (Q(preferred_territories__isnull=True) & Q(pk__in=self._if_staff(user)))
        ).distinct()

    def _if_staff(self, user):
        """Every volunteer's pk when `user` works at a site, else none (as a subquery)."""
        works_at_a_site = Membership.objects.filter(user=user, role__in=SITE_STAFF_ROLES)
        return self.model.objects.filter(Exists(works_at_a_site)).values("pk")

    def managed_by(self, user) -> VolunteerQuerySet:
        """Volunteers `user` verifies and manages: ARS, those of its region (home department
        or a preferred territory there); territory managers, those who chose its territories.
        Seeing a volunteer as site staff grants nothing here."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        regions = Membership.objects.filter(user=user, role=Role.ARS_MANAGER).values("region")
        territories = Membership.objects.filter(user=user, role=Role.TERRITORY_MANAGER).values(
            "territory"
        )
        return self.filter(
            Q(home_department__region__in=regions)
            | Q(preferred_territories__department__region__in=regions)
            | Q(preferred_territories__in=territories)
        ).distinct()

    def of_place(self, *, region=None, department=None, territory=None) -> VolunteerQuerySet:
        """The volunteers of a place of the drill-down (the narrowest given wins): those who
        chose one of its territories and, for a region or a department, those whose home
        department is in it too (a territory's volunteers are those who chose it: a home
        department names no territory). No place: every volunteer. A value may be
        `OuterRef("pk")` inside a query over regions, departments or territories (one count
        per row). Scope is not this method's business: start from `visible_to(user)`."""

        def chose(**lookup):
            # The preferences, deeper by one query level than the volunteers themselves.
            lookup = {
                key: OuterRef(value) if isinstance(value, OuterRef) else value
                for key, value in lookup.items()
            }
            through = self.model.preferred_territories.through.objects.filter(**lookup)
            return Q(pk__in=through.values("volunteer_id"))

        if territory not in (None, ""):
            return self.filter(chose(territory=territory))
        if department not in (None, ""):
            return self.filter(
                Q(home_department=department) | chose(territory__department=department)
            )
        if region not in (None, ""):
            return self.filter(
                Q(home_department__region=region) | chose(territory__department__region=region)
            )
        return self.all()

    def eligible(self, *, today=None) -> VolunteerQuerySet:
        """Bookable volunteers: verified, with a commitment still valid on `today`."""
        today = today or timezone.localdate()
        return self.filter(
            status=Volunteer.Status.VERIFIED,
            commitments__valid_until__gte=today,
        ).distinct()


class Volunteer(models.Model):
    class PracticeStatus(models.TextChoices):
        ACTIVE_LIBERAL = "active_liberal", _("Active, liberal practice")
        ACTIVE_SALARIED = "active_salaried", _("Active, salaried")
        EXCLUSIVE_LOCUM = "exclusive_locum", _("Exclusive locum")
        RETIRED = "retired", _("Retired (cumul emploi-retraite)")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending verification")
        VERIFIED = "verified", _("Verified")
        SUSPENDED = "suspended", _("Suspended")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="volunteer_profile",
        verbose_name=_("user"),
    )
    rpps = models.CharField(
        _("RPPS number"), max_length=11, unique=True, validators=[validate_rpps]
    )
    practice_status = models.CharField(
        _("practice status"), max_length=20, choices=PracticeStatus.choices
    )
    home_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("home department")
    )
    practice_territory = models.ForeignKey(
        Territory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("territory of one's own practice"),
    )
    software = models.CharField(_("practice software"), max_length=100, blank=True)
    mss_address = models.EmailField(
        _("MSSanté address"), blank=True, validators=[validate_mss_address]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    preferred_territories = models.ManyToManyField(
        Territory, blank=True, related_name="volunteers", verbose_name=_("preferred territories")
    )
    max_days_per_month = models.DecimalField(
        _("maximum days per month"),
        max_digits=3,
        decimal_places=1,
        default=settings.RELEVE_MAX_DAYS_PER_MONTH,
        validators=[MinValueValidator(0), MaxValueValidator(31)],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verification_evidence = models.TextField(
        _("evidence of ordinal registration"), max_length=2000, blank=True
    )
    calendar_token = models.CharField(
        max_length=64, unique=True, default=new_calendar_token, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VolunteerQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["calendar_token"])

    class Meta:
        verbose_name = _("volunteer doctor")
        verbose_name_plural = _("volunteer doctors")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_days_per_month__gte=0), name="volunteer_max_days_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Dr {self.user.get_full_name() or self.user.email}"

    @property
    def full_name(self) -> str:
        return self.user.get_full_name() or self.user.email

    @property
    def practises_in_a_priority_zone(self) -> bool:
        """Recruiting this doctor could empty one desert to fill another: managers are warned."""
        return self.practice_territory is not None and self.practice_territory.is_priority

    def current_commitment(self, *, today=None) -> Commitment | None:
        today = today or timezone.localdate()
        return self.commitments.filter(valid_until__gte=today).order_by("-accepted_at").first()

    def booking_gaps(self, *, today=None) -> list[str]:
        """What keeps this volunteer from taking a day, as codes of `BOOKING_GAPS` (none: it
        may). The one definition of eligibility: `is_eligible`, the booking services and the
        pages that warn the volunteer beforehand all read it."""
        gaps = []
        if self.status == self.Status.SUSPENDED:
            gaps.append("suspended")
        elif self.status != self.Status.VERIFIED:
            gaps.append("verification")
        if self.current_commitment(today=today) is None:
            gaps.append("charter_expired" if self.commitments.exists() else "charter")
        return gaps

    def is_eligible(self, *, today=None) -> bool:
        return not self.booking_gaps(today=today)


class Commitment(models.Model):
    """The signed charter: the volunteer will answer follow-up questions after the day."""

    class Channel(models.TextChoices):
        MSSANTE = "mssante", _("MSSanté secure messaging")
        PHONE = "phone", _("Phone")
        TELECONSULTATION = "teleconsultation", _("Teleconsultation")

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("volunteer")
    )
    charter_version = models.CharField(_("charter version"), max_length=20)
    channels = models.JSONField(_("follow-up channels"), default=list)
    response_hours = models.PositiveSmallIntegerField(
        _("response delay (working hours)"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    accepted_at = models.DateTimeField(_("accepted at"))
    valid_until = models.DateField(_("valid until"))

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.volunteer} — v{self.charter_version} ({self.accepted_at:%Y-%m-%d})"


class Availability(models.Model):
    Period = Period

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="availabilities"
    )
    date = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=3, choices=Period.choices, default="day")
    territories = models.ManyToManyField(Territory, blank=True, verbose_name=_("territories"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availabilities")
        ordering = ["date", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "date", "period"], name="availability_unique_slot"
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.date} {self.period}"
