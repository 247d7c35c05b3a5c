"""Places (regions, departments, territories, host sites), who manages them, and memberships.

A `Membership(user, role, region | territory | site)` grants one role on one place; every
queryset that serves a person goes through `visible_to(user)`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import User
from accounts.roles import SITE_STAFF_ROLES, Role
from sites.validators import validate_finess, validate_phone, validate_postal_code, validate_siren


def typographic(name: str) -> str:
    """A place's name as French typography writes it: the reference data keeps INSEE's
    straight apostrophe ("Côte-d'Or"), pages show the curly one ("Côte-d’Or")."""
    return name.replace("'", "\u2019")


class Region(models.Model):
    code = models.CharField(_("INSEE code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return typographic(self.name)


class Department(models.Model):
    code = models.CharField(_("INSEE code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("region")
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{typographic(self.name)} ({self.code})"

    @property
    def label(self) -> str:
        """What a picker shows, number first: "21 – Côte-d’Or"."""
        return f"{self.code} \u2013 {typographic(self.name)}"

    @staticmethod
    def sort_key(code: str) -> str:
        """Department numbers in their natural order: Corsica's 2A and 2B come where 20 was,
        between 19 and 21 (a plain string sort puts them after 29); overseas 971… last."""
        return f"20{code[1]}" if code.upper() in ("2A", "2B") else code


class ManagingStructure(models.Model):
    """A CPTS or CLS that manages territories by delegation of the ARS."""

    class Kind(models.TextChoices):
        CPTS = "cpts", _("CPTS (territorial health professionals' community)")
        CLS = "cls", _("CLS (local health contract)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.CPTS)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="structures", verbose_name=_("region")
    )
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("managing structure")
        verbose_name_plural = _("managing structures")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _memberships(user, *roles: str):
    """The user's memberships with one of `roles`, as a subquery-able queryset."""
    return Membership.objects.filter(user=user, role__in=roles)


def _staffed_q(user, roles) -> Q:
    """The one place that says who is a site's staff: a member of the site with one of `roles`,
    or of its pôle mère when the site is a secondary or temporary practice attached to one.

    The pôle mère's team always runs its secondary practices, whether they have a team of
    their own or not: one shared planning for all the practices (seed 003, line 11), the
    secondary practice managed from the pôle mère (line 3). Follow-up *routing* is narrower
    (`continuity.services.Routing`): the site's own nurse or assistant first.
    """
    mine = _memberships(user, *roles).values("site")
    return Q(pk__in=mine) | Q(kind__in=HostSite.ATTACHED_KINDS, parent__in=mine)


class TerritoryQuerySet(models.QuerySet):
    def visible_to(self, user) -> TerritoryQuerySet:
        # Territories are public reference data (the catalogue filters on them); the API still
        # needs a signed-in caller.
        if not user.is_authenticated:
            return self.none()
        return self.all()

    def piloted_by(self, user) -> TerritoryQuerySet:
        """Territories whose dashboards `user` reads: every one for the national manager, else
        those it manages. Reading only: acting on a territory asks `managed_by`."""
        if not user.is_authenticated:
            return self.none()
        # One query whatever the role: the national condition is an uncorrelated EXISTS.
        return self.filter(
            Exists(_memberships(user, Role.NATIONAL_MANAGER))
            | Q(pk__in=self.model.objects.managed_by(user).values("pk"))
        )

    def managed_by(self, user) -> TerritoryQuerySet:
        """Territories `user` manages: its own as territory manager, its region's as ARS."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(pk__in=_memberships(user, Role.TERRITORY_MANAGER).values("territory"))
            | Q(department__region__in=_memberships(user, Role.ARS_MANAGER).values("region"))
        )


class Territory(models.Model):
    """An intercommunalité (EPCI à fiscalité propre) identified by its SIREN number; the
    priority zones of the scheme are flagged (`import_priority_zones`). Its `department` is
    the one holding most of its population; its communes say which others it reaches."""

    name = models.CharField(_("name"), max_length=200)
    epci_siren = models.CharField(
        _("EPCI SIREN number"), max_length=9, unique=True, validators=[validate_siren]
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="territories",
        verbose_name=_("department"),
    )
    is_priority = models.BooleanField(_("priority zone"), default=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    managing_structure = models.ForeignKey(
        ManagingStructure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="territories",
        verbose_name=_("managing structure"),
    )

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Commune(models.Model):
    """A commune of France (INSEE code), its postal codes and population, and the EPCI it
    belongs to: how a site's territory is proposed from its postal code and city."""

    insee_code = models.CharField(_("INSEE code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="communes", verbose_name=_("department")
    )
    # Space-separated (a commune may have several; a postal code may serve several communes).
    postal_codes = models.CharField(_("postal codes"), max_length=200, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    territory = models.ForeignKey(
        Territory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name=_("territory"),
    )

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name", "insee_code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee_code})"


class HostSiteQuerySet(models.QuerySet):
    def public(self) -> HostSiteQuerySet:
        """The public catalogue: active sites whose information sheet is published."""
        return self.filter(status=HostSite.Status.ACTIVE, info_sheet__status="published")

    def to_validate(self) -> HostSiteQuerySet:
        """Sheets waiting for a manager: submitted, or published with changes submitted."""
        return self.filter(
            Q(info_sheet__status="submitted")
            | Q(info_sheet__status="published", info_sheet__revision_status="submitted")
        )

    def in_scope_of(self, user) -> HostSiteQuerySet:
        """Sites `user` works on: its region (ARS), its territories (manager), its own sites and
        the secondary practices they run as pôle mère (`_staffed_q`); every site for the
        national manager (who reads them and acts on none)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Exists(_memberships(user, Role.NATIONAL_MANAGER))
            | Q(
                territory__department__region__in=_memberships(user, Role.ARS_MANAGER).values(
                    "region"
                )
            )
            | Q(territory__in=_memberships(user, Role.TERRITORY_MANAGER).values("territory"))
            | _staffed_q(user, SITE_STAFF_ROLES)
        )

    def visible_to(self, user) -> HostSiteQuerySet:
        """What `user` may read: its scope, plus the public catalogue that anyone may read."""
        public = Q(status=HostSite.Status.ACTIVE, info_sheet__status="published")
        if not user.is_authenticated:
            return self.filter(public)
        if user.is_superuser:
            return self.all()
        return self.filter(public | Q(pk__in=self.model.objects.in_scope_of(user).values("pk")))

    def managed_by(self, user) -> HostSiteQuerySet:
        """Sites whose territory `user` manages (territory manager or ARS of the region)."""
        return self.filter(territory__in=Territory.objects.managed_by(user))

    def piloted_by(self, user) -> HostSiteQuerySet:
        """Sites on `user`'s dashboards (every site for the national manager)."""
        return self.filter(territory__in=Territory.objects.piloted_by(user))

    def staffed_by(self, user, *roles: str) -> HostSiteQuerySet:
        """Sites where `user` works as site staff (one of `roles`, default any staff role): its
        own sites, and the secondary practices their pôle mère runs (`_staffed_q`)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(_staffed_q(user, roles or SITE_STAFF_ROLES))

    def in_place(self, *, region=None, department=None, territory=None, site=None):
        """The sites of a place of the drill-down (`?region=&department=&territory=&site=`, as
        the dashboards name it); the parameters given all apply."""
        lookups = {
            "territory__department__region": region,
            "territory__department": department,
            "territory": territory,
            "pk": site,
        }
        return self.filter(
            **{key: value for key, value in lookups.items() if value not in (None, "")}
        )

    def not_ready(self) -> HostSiteQuerySet:
        """Sites that cannot host a volunteer yet: a mandatory item of the readiness catalogue
        is not `ok` on their sheet (`sheets.missing_mandatory_items`: a site without a sheet,
        or an item added to the catalogue since, lacks it too)."""
        from sites.models.sheets import missing_mandatory_items

        return self.filter(Exists(missing_mandatory_items(OuterRef("pk"))))

    def with_readiness(self) -> HostSiteQuerySet:
        """Annotate readiness counts (mandatory items ok / mandatory items) in the database.

        Each count is a correlated subquery over the stored `SheetReadiness` rows of one site's
        sheet: computed for the rows a page lists only (a COUNT leaves them out), never a
        GROUP BY of every site × item (issue 14 § 2)."""
        from sites.models import SheetReadiness

        def count(condition: Q) -> Coalesce:
            rows = (
                SheetReadiness.objects.filter(condition, sheet__site=OuterRef("pk"))
                .order_by()
                .values("sheet")
                .annotate(n=Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

        mandatory = Q(item__mandatory=True)
        ok = Q(status="ok")
        return self.annotate(
            readiness_mandatory=count(mandatory),
            readiness_mandatory_ok=count(mandatory & ok),
            readiness_applicable=count(~Q(status="not_applicable")),
            readiness_ok=count(ok),
        )


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class HostSite(models.Model):
    """A place that hosts volunteers (MSP, health centre, secondary practice…)."""

    class Kind(models.TextChoices):
        MSP = "msp", _("Multi-professional health house (MSP)")
        HEALTH_CENTRE = "health_centre", _("Health centre")
        GROUP_PRACTICE = "group_practice", _("Group practice")
        SECONDARY_PRACTICE = "secondary_practice", _("Secondary practice")
        TEMPORARY_PRACTICE = "temporary_practice", _("Temporary practice")
        LOCAL_HOSPITAL = "local_hospital", _("Local hospital")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    # Practices run from their pôle mère (`parent`): its team works there too (`_staffed_q`).
    ATTACHED_KINDS = (Kind.SECONDARY_PRACTICE, Kind.TEMPORARY_PRACTICE)

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MSP)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent site (pôle mère)"),
        help_text=_("The main site of a secondary or temporary practice."),
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="sites", verbose_name=_("territory")
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[validate_postal_code]
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    days_wanted_per_month = models.PositiveSmallIntegerField(
        _("days wanted per month"),
        default=0,
        validators=[MaxValueValidator(62)],
        help_text=_(
            "How many volunteer days a month the site needs covered (a half-day counts 0.5): "
            "coverage is measured against it."
        ),
    )
    rooms = models.PositiveSmallIntegerField(
        _("consultation rooms for volunteers"), default=1, validators=[MinValueValidator(1)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    finess = models.CharField(
        _("FINESS number"), max_length=9, blank=True, validators=[validate_finess]
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The secret of the site's private calendar feed (every day at the site, for its team):
    # rotated on demand and whenever someone leaves the team (`sites.services`).
    calendar_token = models.CharField(
        max_length=64, unique=True, default=new_calendar_token, editable=False
    )

    objects = HostSiteQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["calendar_token"])

    class Meta:
        verbose_name = _("host site")
        verbose_name_plural = _("host sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "name"], name="site_unique_name_in_territory"
            ),
            models.CheckConstraint(condition=Q(rooms__gte=1), name="site_rooms_at_least_one"),
            models.CheckConstraint(
                condition=Q(days_wanted_per_month__lte=62), name="site_days_wanted_at_most_62"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_attached(self) -> bool:
        """A secondary or temporary practice run from its pôle mère (`parent`)."""
        return self.parent_id is not None and self.kind in self.ATTACHED_KINDS

    def team_site_ids(self) -> list[int]:
        """The sites whose staff work here, in order: the site, then its pôle mère when it is
        attached to one (seed 003; `_staffed_q` says the same from the user's side). Follow-up
        routing looks for a nurse or assistant in this order."""
        return [self.pk, self.parent_id] if self.is_attached else [self.pk]

    def team(self, *roles: str):
        """The active users who work here as site staff (one of `roles`, default any): its own
        team and, for an attached practice, its pôle mère's."""
        return User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(
                site_id__in=self.team_site_ids(), role__in=roles or SITE_STAFF_ROLES
            ).values("user"),
        )

    @property
    def full_address(self) -> str:
        return ", ".join(p for p in (self.address, f"{self.postal_code} {self.city}".strip()) if p)


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user) -> MembershipQuerySet:
        """A user sees its own memberships, and managers those on places within their scope."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        territories = Territory.objects.managed_by(user)
        return self.filter(
            Q(user=user)
            | Q(region__in=_memberships(user, Role.ARS_MANAGER).values("region"))
            | Q(territory__in=territories)
            | Q(site__territory__in=territories)
        )


class Membership(models.Model):
    """One role of one user on one place; the database refuses a scope that doesn't fit."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("region"),
    )
    territory = models.ForeignKey(
        Territory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("territory"),
    )
    site = models.ForeignKey(
        HostSite,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("host site"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user", "role"]
        constraints = [
            # Exactly the scope that matches the role is set (accounts.roles.SCOPE_OF_ROLE).
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    Q(
                        role=Role.NATIONAL_MANAGER,
                        region__isnull=True,
                        territory__isnull=True,
                        site__isnull=True,
                    )
                    | Q(
                        role=Role.ARS_MANAGER,
                        region__isnull=False,
                        territory__isnull=True,
                        site__isnull=True,
                    )
                    | Q(
                        role=Role.TERRITORY_MANAGER,
                        region__isnull=True,
                        territory__isnull=False,
                        site__isnull=True,
                    )
                    | Q(
                        role__in=[Role.SECRETARY, Role.COURSE_NURSE, Role.MEDICAL_ASSISTANT],
                        region__isnull=True,
                        territory__isnull=True,
                        site__isnull=False,
                    )
                    | Q(
                        role=Role.VOLUNTEER,
                        region__isnull=True,
                        territory__isnull=True,
                        site__isnull=True,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "region"],
                condition=Q(role=Role.ARS_MANAGER),
                name="membership_unique_region",
            ),
            models.UniqueConstraint(
                fields=["user", "territory"],
                condition=Q(role=Role.TERRITORY_MANAGER),
                name="membership_unique_territory",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "site"],
                condition=Q(site__isnull=False),
                name="membership_unique_site_role",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role=Role.VOLUNTEER),
                name="membership_unique_volunteer",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role=Role.NATIONAL_MANAGER),
                name="membership_unique_national",
            ),
        ]

    def __str__(self) -> str:
        place = self.region or self.territory or self.site
        return f"{self.user} — {self.get_role_display()}" + (f" — {place}" if place else "")

    @property
    def place(self):
        return self.region or self.territory or self.site
