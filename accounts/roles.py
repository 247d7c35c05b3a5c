"""The five roles of Relève and which scope each one is granted on (DESIGN.md § Who uses it)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ARS_MANAGER = "ars_manager", _("ARS manager")
    TERRITORY_MANAGER = "territory_manager", _("Territory manager")
    SECRETARY = "secretary", _("Site secretary")
    COURSE_NURSE = "course_nurse", _("Course nurse")
    VOLUNTEER = "volunteer", _("Volunteer doctor")


class Scope(models.TextChoices):
    REGION = "region", _("Region")
    TERRITORY = "territory", _("Territory")
    SITE = "site", _("Host site")
    SELF = "self", _("Oneself")


SCOPE_OF_ROLE: dict[str, str] = {
    Role.ARS_MANAGER: Scope.REGION,
    Role.TERRITORY_MANAGER: Scope.TERRITORY,
    Role.SECRETARY: Scope.SITE,
    Role.COURSE_NURSE: Scope.SITE,
    Role.VOLUNTEER: Scope.SELF,
}

MANAGER_ROLES = frozenset({Role.ARS_MANAGER, Role.TERRITORY_MANAGER})
SITE_STAFF_ROLES = frozenset({Role.SECRETARY, Role.COURSE_NURSE})
