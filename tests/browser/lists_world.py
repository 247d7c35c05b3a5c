"""A region with enough of everything to fill every list page (issue 12, Phones): a dozen
public sites with long names, full addresses, phones and emails; a course nurse with more
tasks than a phone screen holds (overdue and urgent ones among them), exams, handovers; a
volunteer and a few more; the staff and managers who read those lists."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.roles import Role
from continuity import services
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    handed_over,
    make_sheet,
    open_day,
)

SITES = 12
TASKS = 16
FIRST_SITE = "Maison de santé pluriprofessionnelle universitaire de Saint-Amand-Montrond"
ADDRESS = "14 avenue du Général-de-Gaulle, bâtiment B, 2e étage"
PHONE = "02 48 61 23 45"
EMAIL = "secretariat.msp-saint-amand-montrond@sante-centre.fr"


def _site(territory, n: int):
    name = FIRST_SITE if n == 0 else f"Centre de santé intercommunal du Boischaut-Sud n° {n}"
    site = HostSiteFactory(
        territory=territory, name=name, days_wanted_per_month=4 + n % 5,
        address=ADDRESS, postal_code="18200", city="Saint-Amand-Montrond",
        phone=PHONE, email=EMAIL if n == 0 else f"accueil-{n}@sante-centre.fr",
    )  # fmt: skip
    make_sheet(site, status="published", ready=True, accommodation="Studio au-dessus de la MSP")
    return site


def build() -> dict:
    """The world; returns its people and places by name."""
    today = timezone.localdate()
    now = timezone.now()
    territories = [
        TerritoryFactory(
            name=f"Communauté de communes Cœur de France et Berry Grand Sud {n}",
            department_id="18" if n < 2 else "36",
            population=9000 + n,
        )
        for n in range(3)
    ]
    sites = [_site(territories[n % 3], n) for n in range(SITES)]
    home = sites[0]
    # Ordinary names for the people who sign in: the header's width is not these lists' test.
    volunteers = [
        VolunteerFactory(
            user__first_name="Marie" if n == 0 else "Marie-Hélène",
            user__last_name="Roux" if n == 0 else f"Delacroix-Vasseur-Montlouis {n}",
            territories=territories[:2],
        )  # fmt: skip
        for n in range(4)
    ]
    doctor = volunteers[0]
    EmailAddress.objects.create(
        user=doctor.user, email=doctor.user.email, verified=True, primary=True
    )
    nurse = member(Role.COURSE_NURSE, site=home)
    nurse.first_name, nurse.last_name = "Anne", "Lefebvre"
    nurse.save()
    for n, site in enumerate(sites):
        open_day(site, today + timedelta(days=2 + n), status="booked", volunteer=doctor)
        open_day(site, today + timedelta(days=8 + n % 5))
        open_day(site, today + timedelta(days=15), period="am")
    yesterday = open_day(home, today - timedelta(days=1), status="booked", volunteer=doctor)
    exams = services.exams_record(
        vacation=yesterday,
        by=doctor.user,
        rows=[
            {
                "patient_ref": f"MSP-2024-000{420 + n}-BIS",
                "patient_initials": "JD",
                "patient_birth_year": 1950 + n,
                "kind": "biology",
                "description": "Ionogramme sanguin, créatininémie avec DFG (CKD-EPI), NFS",
                "order_number": f"CMD-2026-000{140 + n}-LABORATOIRE-CENTRE",
            }
            for n in range(6)
        ],
    )
    for n, exam in enumerate(exams[:4]):
        services.exam_receive(
            exam=exam, by=nurse, abnormal=n % 2 == 0,
            result_summary="Kaliémie à 6,1 mmol/L (N < 5,0).",
        )  # fmt: skip
    for n in range(TASKS - 4):
        services.task_open(
            site=home,
            kind="other",
            title=f"Rappeler le patient MSP-2024-{n:03d} pour le résultat de l'échographie",
            priority="urgent" if n % 3 == 0 else "normal",
            due_at=now + timedelta(hours=-30 + 9 * n),  # the first ones are overdue
        )
    past = open_day(home, today - timedelta(days=6), status="booked", volunteer=doctor)
    handed_over(past)
    return {
        "sites": sites,
        "home": home,
        "territories": territories,
        "doctor": doctor,
        "nurse": nurse,
        "secretary": member(Role.SECRETARY, site=home),
        "territory_manager": member(Role.TERRITORY_MANAGER, territory=territories[0]),
        "ars": member(Role.ARS_MANAGER, region_id="24"),
    }
