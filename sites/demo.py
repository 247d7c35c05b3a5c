"""The demo world's places and people (`manage.py seed_demo`); idempotent by natural keys."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from accounts.roles import Role
from sites import services
from sites.catalogues import COURSE_NURSE_ITEM, DERIVED_READINESS
from sites.models import (
    EquipmentItem,
    HostSite,
    InfoSheet,
    ManagingStructure,
    Membership,
    ReadinessItem,
    Territory,
)

DEMO_PASSWORD = "releve-demo"  # noqa: S105 - published demo credentials, listed in the README

# Real intercommunalités of Centre-Val de Loire and Occitanie, with their official SIREN numbers
# and names (sites/data/, `load_territories`); their demo flags are
# sites/data/priority_zones_demo.csv. The structures managing them are made up.
STRUCTURES = (
    ("CPTS Sud Berry (démo)", "24"),
    ("CPTS Aubrac-Causses (démo)", "76"),
)
TERRITORIES = (
    ("CC Berry Grand Sud", "200049484", "18", "CPTS Sud Berry (démo)"),
    ("CC Écueillé-Valençay", "200040558", "36", "CPTS Sud Berry (démo)"),
    ("CC Aubrac, Carladez et Viadène", "200067171", "12", "CPTS Aubrac-Causses (démo)"),
    ("CC Causses et Vallée de la Dordogne", "200066371", "46", "CPTS Aubrac-Causses (démo)"),
)
# Demo databases seeded before the real territories were loaded used made-up SIREN numbers.
PLACEHOLDER_SIRENS = {
    "200044014": "200049484",
    "200066330": "200040558",
    "200069516": "200067171",
    "200066793": "200066371",
}


def renumber_placeholder_territories() -> int:
    """Give the demo's old territories their real SIREN numbers, before France is loaded: the
    loader then updates those rows (and their sites) instead of adding twins beside them."""
    renumbered = 0
    for placeholder, real in PLACEHOLDER_SIRENS.items():
        if not Territory.objects.filter(epci_siren=real).exists():
            # Territories keep no history: a plain update is their write path.
            renumbered += Territory.objects.filter(epci_siren=placeholder).update(epci_siren=real)
    return renumbered


# name, kind, territory SIREN, parent name, address, postal code, city, phone, rooms, sheet fate
SITES = (
    ("Maison de santé de Châteaumeillant", "msp", "200049484", None, "12 rue de la Poste",
     "18370", "Châteaumeillant", "02 48 61 30 12", 2, "published"),
    ("Cabinet secondaire du Châtelet", "secondary_practice", "200049484",
     "Maison de santé de Châteaumeillant", "3 place de l’Église", "18170", "Le Châtelet",
     "02 48 56 21 40", 1, "published"),
    ("Centre de santé de Valençay", "health_centre", "200040558", None, "5 avenue de la Résistance",
     "36600", "Valençay", "02 54 00 31 58", 2, "published"),
    ("Maison de santé de Laguiole", "msp", "200067171", None, "2 allée de l’Amicale", "12210",
     "Laguiole", "05 65 44 30 70", 1, "published"),
    ("Maison de santé de Souillac", "msp", "200066371", None, "8 boulevard Louis-Jean Malvy",
     "46200", "Souillac", "05 65 37 80 15", 2, "submitted"),
    ("Cabinet de groupe de Gramat", "group_practice", "200066371", None, "1 place de la Halle",
     "46500", "Gramat", "05 65 38 72 09", 1, "draft"),
    # The demo's managers (Centre-Val de Loire) have a sheet to validate or send back, and a draft
    # that cannot be published yet, in their own territories.
    # Luçay-le-Mâle leans on its pôle mère, Valençay, for the follow-up of its results.
    ("Maison de santé de Luçay-le-Mâle", "secondary_practice", "200040558",
     "Centre de santé de Valençay", "1 rue du Stade", "36360", "Luçay-le-Mâle", "02 61 91 36 60",
     2, "submitted"),
    ("Cabinet médical de Culan", "group_practice", "200049484", None, "7 rue de la Chaussée",
     "18270", "Culan", "02 61 91 18 27", 1, "draft"),
)  # fmt: skip
FIRST_SITE = SITES[0][0]

# email, first name, last name, role, scope
ACCOUNTS = (
    ("national@demo.releve.fr", "Hélène", "Garnier", Role.NATIONAL_MANAGER, None),
    ("ars@demo.releve.fr", "Claire", "Dumas", Role.ARS_MANAGER, ("region", "24")),
    (
        "cpts@demo.releve.fr",
        "Julien",
        "Roux",
        Role.TERRITORY_MANAGER,
        ("structure", "CPTS Sud Berry (démo)"),
    ),
    ("secretariat@demo.releve.fr", "Sophie", "Lefèvre", Role.SECRETARY, ("site", None)),
    ("infirmiere@demo.releve.fr", "Nadia", "Benali", Role.COURSE_NURSE, ("site", None)),
    # A site without a course nurse: its medical assistant follows its results up (seed 000).
    (
        "assistant@demo.releve.fr",
        "Léa",
        "Moreau",
        Role.MEDICAL_ASSISTANT,
        ("site", "Centre de santé de Valençay"),
    ),
    (
        "infirmiere.laguiole@demo.releve.fr",
        "Marion",
        "Vidal",
        Role.COURSE_NURSE,
        ("site", "Maison de santé de Laguiole"),
    ),
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
        # Loaded with France's territories by `seed_demo` (without a structure), or created here
        # when the demo's places are seeded alone (tests).
        territory, _created = Territory.objects.get_or_create(
            epci_siren=siren,
            defaults={"name": name, "department_id": department, "is_priority": True},
        )
        if territory.managing_structure_id is None:
            territory.managing_structure = structures[structure]
            territory.save(update_fields=["managing_structure"])
        territories[siren] = territory
    sites = _seed_sites(territories)
    accounts = []
    for email, first_name, last_name, role, scope in ACCOUNTS:
        user = _user(email, first_name, last_name)
        if scope is None:
            Membership.objects.get_or_create(user=user, role=role)
        elif scope[0] == "region":
            Membership.objects.get_or_create(user=user, role=role, region_id=scope[1])
        elif scope[0] == "structure":
            for territory in structures[scope[1]].territories.all():
                Membership.objects.get_or_create(user=user, role=role, territory=territory)
        else:
            Membership.objects.get_or_create(
                user=user, role=role, site=sites[scope[1] or FIRST_SITE]
            )
        accounts.append((email, role.label))
    _seed_sheets(sites, publisher=User.objects.get(email="cpts@demo.releve.fr"))
    return accounts


def _seed_sites(territories: dict[str, Territory]) -> dict[str, HostSite]:
    sites: dict[str, HostSite] = {}
    for name, kind, siren, parent, address, postal_code, city, phone, rooms, fate in SITES:
        site = HostSite.objects.filter(name=name, territory=territories[siren]).first()
        if site is None:
            site = services.site_create(
                by=None, name=name, kind=kind, territory=territories[siren],
                parent=sites.get(parent), address=address, postal_code=postal_code, city=city,
                phone=phone, rooms=rooms,
                status=HostSite.Status.DRAFT if fate == "draft" else HostSite.Status.ACTIVE,
                email=f"accueil.{slugify(city)}@demo.releve.fr",
            )  # fmt: skip
        else:
            # A site kept from an older demo gets the identity its sheet needs to be published.
            identity = {
                "address": address,
                "postal_code": postal_code,
                "city": city,
                "phone": phone,
                "email": f"accueil.{slugify(city)}@demo.releve.fr",
            }
            blank = {key: value for key, value in identity.items() if not getattr(site, key)}
            if blank:
                site = services.site_update(site=site, by=None, **blank)
        sites[name] = site
    return sites


SHEET = {
    "patients_profile": (
        "Patientèle rurale et âgée (un tiers de plus de 75 ans), nombreux patients sans médecin "
        "traitant depuis le départ en retraite de deux généralistes ; suivi de maladies "
        "chroniques (diabète, insuffisance cardiaque), renouvellements, soins non programmés."
    ),
    "daily_consultations": 22,
    "practice_modes": ["on_site", "home_visits", "nursing_home"],
    "team_description": (
        "Deux médecins généralistes à temps partiel, trois infirmières dont une infirmière de "
        "parcours, un kinésithérapeute, une sage-femme une fois par semaine."
    ),
    "secretariat_description": "Secrétariat sur place de 8 h 30 à 18 h, du lundi au vendredi.",
    "functioning_description": (
        "Consultations sur rendez-vous le matin, créneaux de soins non programmés l’après-midi ; "
        "réunion d’équipe le jeudi midi."
    ),
    "protocols": "Protocoles de coopération : renouvellement d’ordonnance, cystite simple.",
    "information_system": "Weda (accès web)",
    "remuneration": "200 € la journée, 100 € la demi-journée, versés par l’Assurance maladie.",
    "accommodation": "Studio meublé au-dessus de la maison de santé, linge fourni.",
    "transport": "Gare de Saint-Amand-Montrond à 25 km ; navette possible sur demande.",
    "consultation_minutes": 20,
}
CONTACTS = (
    {"service": "laboratory", "name": "Laboratoire de biologie médicale", "phone": "02 48 96 12 34",
     "priority": True},
    {"service": "radiology", "name": "Cabinet d’imagerie médicale", "phone": "02 48 63 45 10"},
    {"service": "emergency", "name": "Urgences du centre hospitalier", "phone": "02 48 48 48 48",
     "priority": True},
    {"service": "pharmacy", "name": "Pharmacie de la place", "phone": "02 48 61 30 55"},
)  # fmt: skip
MISSING_IN_DRAFT = COURSE_NURSE_ITEM  # no follow-up staff at the draft's site
REVISED = "Centre de santé de Valençay"
REVISION = {
    "transport": "Gare de Valençay à 2 km ; navette de la communauté de communes le lundi matin.",
    "consultation_minutes": 25,
}


DEMO_OFFER = {
    "kind": "communal_gite",
    "offered_by": "commune",
    "address": "Gîte communal, 3 place de la Mairie",
    "contact_name": "Secrétariat de mairie",
    "contact_phone": "02 54 00 12 34",
    "nights_available": "Du lundi au jeudi, sur demande la veille",
}


def _seed_sheets(sites: dict[str, HostSite], *, publisher: User) -> None:
    """Fill each sheet once: a sheet that left the draft state, or has contacts, is done."""
    cvl = {name for name, site in sites.items() if site.territory.department.region_id == "24"}
    for name, *_rest, fate in SITES:
        sheet = services.ensure_sheet(sites[name])
        if sheet.status != InfoSheet.Status.DRAFT or sheet.contacts.exists():
            continue
        # Every item done by hand but the course nurse, which follows the site's staff.
        readiness = {
            item.code: {"status": "ok"}
            for item in ReadinessItem.objects.exclude(code__in=DERIVED_READINESS)
        }
        if fate == "draft":
            readiness[MISSING_IN_DRAFT] = {"note": "Recrutement en cours"}
        services.sheet_update(
            sheet=sheet,
            by=None,
            fields=SHEET,
            contacts=CONTACTS,
            equipment={item.code: True for item in EquipmentItem.objects.all()},
            readiness=readiness,
        )
        if fate == "published":
            # The commune's gîte (seed 000, line 67: accommodation with the commune or EPCI).
            services.accommodation_offers_update(site=sites[name], by=None, offers=[DEMO_OFFER])
        if fate in ("submitted", "published"):
            services.sheet_submit(sheet=sheet, by=None)
        if fate == "published":
            services.sheet_publish(sheet=sheet, by=publisher if name in cvl else None)
        if name == REVISED:
            # A validated sheet edited since: the public keeps the validated version while the
            # change waits for the manager (who sees what changed at /sites/<pk>/modifications/).
            services.sheet_update(sheet=sheet, by=None, fields=REVISION)
            services.sheet_submit(sheet=sheet, by=None)
