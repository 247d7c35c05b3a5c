"""The demo world's volunteer doctors (`manage.py seed_demo`): two bookable, one pending."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from sites.demo import DEMO_PASSWORD
from sites.models import Department, Territory
from volunteers import services
from volunteers.models import Volunteer

# email, RPPS (valid check digit, fictitious), practice status, home department, software,
# verified
PROFILES = (
    ("dr.martin@demo.releve.fr", "10001234565", "retired", "45", "Weda", True),
    ("dr.bernard@demo.releve.fr", "10009876540", "active_liberal", "31", "Crossway", True),
    ("dr.petit@demo.releve.fr", "10005551238", "exclusive_locum", "37", "MédiStory", False),
)


@transaction.atomic
def seed(*, verifier: User) -> list[tuple[str, str]]:
    accounts = []
    territories = list(Territory.objects.filter(is_priority=True).order_by("pk"))
    for email, rpps, status, department, software, verified in PROFILES:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, first_name="Louise", last_name="Petit"
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if not verified:
            accounts.append((email, "Médecin volontaire (en attente de vérification)"))
        if Volunteer.objects.filter(user=user).exists():
            continue
        volunteer = services.volunteer_register(
            user=user,
            rpps=rpps,
            practice_status=status,
            home_department=Department.objects.get(pk=department),
            software=software,
            mss_address=email.replace("@demo.releve.fr", "@medecin.mssante.fr"),
            phone="06 12 34 56 78",
            preferred_territories=territories,
        )
        if verified:
            services.volunteer_verify(
                volunteer=volunteer,
                by=verifier,
                evidence="Inscription au tableau de l’Ordre vérifiée sur l’annuaire du CDOM.",
            )
            services.commitment_sign(volunteer=volunteer, charter_version="1")
    return accounts
