"""A host site's information sheet: what a volunteer must know before coming, and whether the
site is ready (software access, secretariat, a course nurse…) to host one.

Writes go through `sites.services`; the catalogues of equipment and readiness items are seeded
by data migrations and editable by operators in the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from sites.models.places import HostSite
from sites.validators import validate_phone

# Long free-text answers stay readable on a sheet and in its PDF.
TEXT_MAX = 4000


class PracticeMode(models.TextChoices):
    ON_SITE = "on_site", _("Consultations on site")
    HOME_VISITS = "home_visits", _("Home visits")
    NURSING_HOME = "nursing_home", _("Nursing homes (EHPAD)")
    LOCAL_HOSPITAL = "local_hospital", _("Local hospital")
    ON_CALL = "on_call", _("On-call duty")


class InfoSheetQuerySet(models.QuerySet):
    def visible_to(self, user) -> InfoSheetQuerySet:
        return self.filter(site__in=HostSite.objects.visible_to(user))


class InfoSheet(models.Model):
    """A site's sheet. Its columns and rows (contacts, equipment, readiness) are the working
    copy its staff edit; once validated, `published_content` holds the validated version, frozen.

    Why a frozen snapshot rather than a second set of rows (an `InfoSheetRevision` model with
    its own contacts, equipment and readiness): the public reads one JSON column it already
    loads with the sheet (the catalogue costs the same queries), the staff pages and forms keep
    editing the rows they always edited, and validating a revision is one assignment. The
    snapshot is self-contained (item labels included): the public sees what the manager
    validated, even if the catalogue of items changes afterwards.

    A published sheet whose working copy is edited carries a revision (`revision_status`):
    draft → submitted → validated (the snapshot is replaced; back to `none`) or returned with a
    comment. The first publication goes draft → submitted → published as before. Constraints:
    a published sheet has a published version and only a published one has a revision; a
    returned revision says why.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for validation")
        PUBLISHED = "published", _("Published")

    class RevisionStatus(models.TextChoices):
        NONE = "none", _("No pending changes")
        DRAFT = "draft", _("Changes being edited")
        SUBMITTED = "submitted", _("Changes submitted for validation")
        RETURNED = "returned", _("Changes sent back to the site")

    site = models.OneToOneField(
        HostSite, on_delete=models.CASCADE, related_name="info_sheet", verbose_name=_("host site")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    patients_profile = models.TextField(_("patient profile"), max_length=TEXT_MAX, blank=True)
    daily_consultations = models.PositiveSmallIntegerField(
        _("consultations per day"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(200)],
    )
    practice_modes = models.JSONField(_("practice modes"), default=list, blank=True)
    team_description = models.TextField(_("team"), max_length=TEXT_MAX, blank=True)
    secretariat_description = models.TextField(_("secretariat"), max_length=TEXT_MAX, blank=True)
    functioning_description = models.TextField(
        _("general functioning"), max_length=TEXT_MAX, blank=True
    )
    protocols = models.TextField(_("protocols in use"), max_length=TEXT_MAX, blank=True)
    information_system = models.CharField(
        _("shared information system"), max_length=200, blank=True
    )
    remuneration = models.TextField(_("remuneration"), max_length=TEXT_MAX, blank=True)
    accommodation = models.TextField(_("accommodation"), max_length=TEXT_MAX, blank=True)
    transport = models.TextField(_("transport"), max_length=TEXT_MAX, blank=True)
    consultation_minutes = models.PositiveSmallIntegerField(
        _("minimum consultation length (minutes)"),
        default=20,
        validators=[MinValueValidator(20), MaxValueValidator(60)],
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    # The validated version the public reads ({} until the first publication); see
    # `sites.revisions`. Not in the history: each validation is recorded there by its date,
    # validator and revision status, and the rows' own history holds every change.
    published_content = models.JSONField(
        _("published version"), default=dict, blank=True, editable=False
    )
    revision_status = models.CharField(
        _("pending changes"),
        max_length=10,
        choices=RevisionStatus.choices,
        default=RevisionStatus.NONE,
    )
    revision_submitted_at = models.DateTimeField(_("changes submitted at"), null=True, blank=True)
    return_comment = models.TextField(_("comment of the manager"), max_length=TEXT_MAX, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = InfoSheetQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["published_content"])

    class Meta:
        verbose_name = _("information sheet")
        verbose_name_plural = _("information sheets")
        constraints = [
            models.CheckConstraint(
                condition=Q(consultation_minutes__gte=20, consultation_minutes__lte=60),
                name="sheet_consultation_minutes_20_to_60",
            ),
            # Published ⇔ a validated version to show.
            models.CheckConstraint(
                condition=(Q(status="published") & ~Q(published_content={}))
                | (~Q(status="published") & Q(published_content={})),
                name="sheet_published_has_its_version",
            ),
            models.CheckConstraint(
                condition=Q(revision_status="none") | Q(status="published"),
                name="sheet_revision_only_when_published",
            ),
            models.CheckConstraint(
                condition=~Q(revision_status="returned") | ~Q(return_comment=""),
                name="sheet_returned_revision_says_why",
            ),
        ]

    def __str__(self) -> str:
        return str(self.site)

    @property
    def changed_since_publication(self) -> bool:
        """Changes to a published sheet wait for validation (the API's older name for an open
        revision)."""
        return self.revision_status != self.RevisionStatus.NONE

    @property
    def revision_open(self) -> bool:
        """The staff may submit the changes: being edited, or sent back."""
        return self.revision_status in (self.RevisionStatus.DRAFT, self.RevisionStatus.RETURNED)

    @property
    def accommodation_offers(self):
        """The site's accommodation offers (live: not part of the validated version)."""
        return self.site.accommodation_offers.all()

    def practice_mode_labels(self) -> list[str]:
        labels = dict(PracticeMode.choices)
        return [str(labels[mode]) for mode in self.practice_modes if mode in labels]

    def missing_mandatory(self) -> list[SheetReadiness]:
        """Mandatory readiness items that are not `ok` (what blocks publication)."""
        return [
            entry
            for entry in self.readiness.all()
            if entry.item.mandatory and entry.status != SheetReadiness.Status.OK
        ]


class KeyContact(models.Model):
    class Service(models.TextChoices):
        LABORATORY = "laboratory", _("Laboratory")
        RADIOLOGY = "radiology", _("Radiology")
        EMERGENCY = "emergency", _("Emergency department")
        PHARMACY = "pharmacy", _("Pharmacy")
        HOSPITAL = "hospital", _("Hospital")
        SPECIALIST = "specialist", _("Specialist")
        OTHER = "other", _("Other")

    sheet = models.ForeignKey(
        InfoSheet, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("sheet")
    )
    service = models.CharField(_("service"), max_length=12, choices=Service.choices)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    priority = models.BooleanField(
        _("priority line"),
        default=False,
        help_text=_("A direct line reserved for professionals."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("key contact")
        verbose_name_plural = _("key contacts")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_service_display()}: {self.name}"


class EquipmentItem(models.Model):
    """Catalogue of what a consultation room should hold (seeded by a data migration)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=200)
    field_addition = models.BooleanField(
        _("addition requested by the field"),
        default=False,
        help_text=_("Not in the national base list, asked for by host sites."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("equipment item")
        verbose_name_plural = _("equipment items")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label


class SheetEquipment(models.Model):
    sheet = models.ForeignKey(InfoSheet, on_delete=models.CASCADE, related_name="equipment")
    item = models.ForeignKey(EquipmentItem, on_delete=models.PROTECT, related_name="+")
    available = models.BooleanField(_("available"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("equipment of a site")
        verbose_name_plural = _("equipment of sites")
        ordering = ["item__position", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "item"], name="sheet_equipment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.available}"


class ReadinessItem(models.Model):
    """Catalogue of what must be in place before a volunteer comes (seeded by migration)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=200)
    mandatory = models.BooleanField(_("mandatory"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("readiness item")
        verbose_name_plural = _("readiness items")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label


class SheetReadiness(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Done")
        MISSING = "missing", _("Missing")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    sheet = models.ForeignKey(InfoSheet, on_delete=models.CASCADE, related_name="readiness")
    item = models.ForeignKey(ReadinessItem, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.MISSING
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("readiness of a site")
        verbose_name_plural = _("readiness of sites")
        ordering = ["item__position", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "item"], name="sheet_readiness_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.status}"


def missing_mandatory_items(site) -> QuerySet[ReadinessItem]:
    """The mandatory catalogue items that are not `ok` on `site`'s sheet, in catalogue order:
    what keeps the site from hosting a volunteer (`HostSite.objects.not_ready()`).

    Read from the catalogue, not from the sheet's rows: an item the sheet has no row for (a
    site registered before sheets existed, an item added to the catalogue since) is missing
    too. `site` is a site, its pk, or `OuterRef("pk")` inside a query over host sites.
    """
    site_ref = OuterRef(site) if isinstance(site, OuterRef) else site
    done = SheetReadiness.objects.filter(
        sheet__site=site_ref, item=OuterRef("pk"), status=SheetReadiness.Status.OK
    )
    return ReadinessItem.objects.filter(mandatory=True).filter(~Exists(done))


class AccommodationOffer(models.Model):
    """A place where a volunteer may sleep, offered by the host commune or its EPCI (seed 000,
    line 67: accommodation and transport facilities, with the host commune or EPCI; line 40:
    the EPCI's part on accommodation). Practical logistics the site's staff keep up to date:
    listed live on the sheet (not frozen in its validated version); a volunteer asks for a
    night of it with a day request (`vacations.NightRequest`)."""

    class Kind(models.TextChoices):
        COMMUNAL_GITE = "communal_gite", _("Communal gîte")
        FLAT = "flat", _("Flat")
        MSP_ROOM = "msp_room", _("Room at the health centre")
        HOTEL_AGREEMENT = "hotel_agreement", _("Hotel under agreement")
        OTHER = "other", _("Other")

    class OfferedBy(models.TextChoices):
        COMMUNE = "commune", _("The host commune")
        EPCI = "epci", _("The EPCI (intercommunality)")

    site = models.ForeignKey(
        HostSite,
        on_delete=models.CASCADE,
        related_name="accommodation_offers",
        verbose_name=_("host site"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    offered_by = models.CharField(_("offered by"), max_length=10, choices=OfferedBy.choices)
    address = models.CharField(_("address"), max_length=300)
    contact_name = models.CharField(_("who to call"), max_length=200)
    contact_phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    nights_available = models.CharField(
        _("nights available"),
        max_length=300,
        blank=True,
        help_text=_("E.g. weekdays only, or the nights before a consultation day."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("accommodation offer")
        verbose_name_plural = _("accommodation offers")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.address}"
