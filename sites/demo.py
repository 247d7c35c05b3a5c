"""The demo world's places and people (`manage.py seed_demo`); idempotent by natural keys."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from sites.models import HostSite, ManagingStructure, Membership, Territory

DEMO_PASSWORD = "releve-demo"  # noqa: S105 - published demo credentials, listed in the README

# Real intercommunalités of Centre-Val de Loire and Occitanie. Their SIREN numbers here are
# placeholders with a valid format, not the official ones.
STRUCTURES = (
    ("CPTS Sud Berry (démo)", "24"),
    ("CPTS Aubrac-Causses (démo)", "76"),
)
TERRITORIES = (
    ("Communauté de communes Berry Grand Sud", "200044014", "18", "CPTS Sud Berry (démo)"),
    ("Communauté de communes Écueillé-Valençay", "200066330", "36", "CPTS Sud Berry (démo)"),
    (
        "Communauté de communes Aubrac, Carladez et Viadène",
        "200069516",
        "12",
        "CPTS Aubrac-Causses (démo)",
    ),
    (
        "Communauté de communes Causses et Vallée de la Dordogne",
        "200066793",
        "46",
        "CPTS Aubrac-Causses (démo)",
    ),
)
FIRST_SITE = ("Maison de santé de Châteaumeillant", "200044014")

# email, first name, last name, role, scope
ACCOUNTS = (
    ("ars@demo.releve.fr", "Claire", "Dumas", Role.ARS_MANAGER, ("region", "24")),
    ("cpts@demo.releve.fr", "Julien", "Roux", Role.TERRITORY_MANAGER, ("territories", "24")),
    ("secretariat@demo.releve.fr", "Sophie", "Lefèvre", Role.SECRETARY, ("site", None)),
    ("infirmiere@demo.releve.fr", "Nadia", "Benali", Role.COURSE_NURSE, ("site", None)),
    ("dr.martin@demo.releve.fr", "Pierre", "Martin", Role.VOLUNTEER, None),
    ("dr.bernard@demo.releve.fr", "Anne", "Bernard", Role.VOLUNTEER, None),
)


def _user(email: str, first_name: str, last_name: str) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    """Create what is missing of the demo world; return (email, role) of its accounts."""
    structures = {
        name: ManagingStructure.objects.get_or_create(name=name, defaults={"region_id": region})[0]
        for name, region in STRUCTURES
    }
    territories = {}
    for name, siren, department, structure in TERRITORIES:
        territories[siren], _created = Territory.objects.get_or_create(
            epci_siren=siren,
            defaults={
                "name": name,
                "department_id": department,
                "is_priority": True,
                "managing_structure": structures[structure],
            },
        )
    site, _created = HostSite.objects.get_or_create(
        name=FIRST_SITE[0],
        territory=territories[FIRST_SITE[1]],
        defaults={"status": HostSite.Status.ACTIVE},
    )
    accounts = []
    for email, first_name, last_name, role, scope in ACCOUNTS:
        user = _user(email, first_name, last_name)
        if scope is None:
            Membership.objects.get_or_create(user=user, role=role)
        elif scope[0] == "region":
            Membership.objects.get_or_create(user=user, role=role, region_id=scope[1])
        elif scope[0] == "territories":
            for territory in Territory.objects.filter(department__region_id=scope[1]):
                Membership.objects.get_or_create(user=user, role=role, territory=territory)
        else:
            Membership.objects.get_or_create(user=user, role=role, site=site)
        accounts.append((email, role.label))
    return accounts
