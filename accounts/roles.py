"""The six roles of Relève and which scope each one is granted on (DESIGN.md § Who uses it)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NATIONAL_MANAGER = "national_manager", _("National manager")
    ARS_MANAGER = "ars_manager", _("ARS manager")
    TERRITORY_MANAGER = "territory_manager", _("Territory manager")
    SECRETARY = "secretary", _("Site secretary")
    COURSE_NURSE = "course_nurse", _("Course nurse")
    # The seed's named fallback for the course nurse: same follow-up rights, routed to after her.
    MEDICAL_ASSISTANT = "medical_assistant", _("Medical assistant")
    VOLUNTEER = "volunteer", _("Volunteer doctor")


class Scope(models.TextChoices):
    NATIONAL = "national", _("France")
    REGION = "region", _("Region")
    TERRITORY = "territory", _("Territory")
    SITE = "site", _("Host site")
    SELF = "self", _("Oneself")


SCOPE_OF_ROLE: dict[str, str] = {
    Role.NATIONAL_MANAGER: Scope.NATIONAL,
    Role.ARS_MANAGER: Scope.REGION,
    Role.TERRITORY_MANAGER: Scope.TERRITORY,
    Role.SECRETARY: Scope.SITE,
    Role.COURSE_NURSE: Scope.SITE,
    Role.MEDICAL_ASSISTANT: Scope.SITE,
    Role.VOLUNTEER: Scope.SELF,
}

# Managers act on the places of their scope (validate, publish, verify, take escalations).
MANAGER_ROLES = frozenset({Role.ARS_MANAGER, Role.TERRITORY_MANAGER})
# Pilots read the dashboards and lists of their scope: the managers, and the national manager
# (DGOS / national health insurance), who reads everything and acts on nothing.
PILOT_ROLES = MANAGER_ROLES | {Role.NATIONAL_MANAGER}
# Who follows up results at a site, in routing order: the course nurse, then the medical assistant.
FOLLOW_UP_ROLES = (Role.COURSE_NURSE, Role.MEDICAL_ASSISTANT)
SITE_STAFF_ROLES = frozenset({Role.SECRETARY, *FOLLOW_UP_ROLES})
