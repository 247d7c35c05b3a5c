from __future__ import annotations

import factory

from accounts.models import User
from accounts.roles import Role
from sites.models import HostSite, ManagingStructure, Membership, Territory
from sites.validators import luhn_is_valid


def _siren(n: int) -> str:
    base = f"{300000000 + n * 10:09d}"[:8]
    return next(base + str(d) for d in range(10) if luhn_is_valid(base + str(d)))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Test{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ManagingStructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManagingStructure

    name = factory.Sequence(lambda n: f"CPTS {n}")
    region_id = "24"


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Communauté de communes {n}")
    epci_siren = factory.Sequence(_siren)
    department_id = "18"
    is_priority = True


class HostSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostSite

    name = factory.Sequence(lambda n: f"Maison de santé {n}")
    territory = factory.SubFactory(TerritoryFactory)
    status = HostSite.Status.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.VOLUNTEER


# What a complete sheet says (every section `sites.services.sheet_missing_fields` asks for).
COMPLETE_SITE = {
    "address": "1 place de la Mairie",
    "postal_code": "18000",
    "city": "Bourges",
    "phone": "02 48 00 00 00",
    "email": "accueil@msp.example.fr",
}
COMPLETE_SHEET = {
    "patients_profile": "Patientèle rurale, âgée",
    "daily_consultations": 20,
    "team_description": "Deux médecins, trois infirmières",
    "secretariat_description": "Secrétariat sur place en semaine",
    "functioning_description": "Consultations sur rendez-vous",
    "protocols": "Renouvellement d’ordonnance",
    "information_system": "Weda",
    "remuneration": "200 € la journée",
    "accommodation": "Studio au-dessus de la MSP",
    "transport": "Gare à 20 km",
    "consultation_minutes": 20,
}
COMPLETE_CONTACT = {"service": "laboratory", "name": "Laboratoire", "phone": "02 48 00 00 01"}


def make_sheet(
    site: HostSite,
    *,
    status: str = "draft",
    ready: bool = False,
    complete: bool | None = None,
    **fields,
):
    """The site's information sheet with every catalogue row; `ready` marks every item ok.

    `complete` (by default: when ready, or submitted or published, as the services demand)
    fills every empty section of the sheet and of the site's identity, and adds a key contact
    when it has none; `fields` given win."""
    from sites.models import InfoSheet, KeyContact, SheetReadiness
    from sites.services import ensure_sheet

    sheet = ensure_sheet(site)
    if complete is None:
        complete = ready or status != InfoSheet.Status.DRAFT
    if complete:
        identity = {name: value for name, value in COMPLETE_SITE.items() if not getattr(site, name)}
        if identity:
            HostSite.objects.filter(pk=site.pk).update(**identity)
            for name, value in identity.items():
                setattr(site, name, value)
        for name, value in COMPLETE_SHEET.items():
            if name not in fields and getattr(sheet, name) in (None, ""):
                fields[name] = value
        if not sheet.contacts.exists():
            KeyContact.objects.create(sheet=sheet, **COMPLETE_CONTACT)
    if ready:
        sheet.readiness.update(status=SheetReadiness.Status.OK)
    if status == InfoSheet.Status.PUBLISHED:
        # A published sheet has its validated version: the content it has now.
        from sites.revisions import sheet_content

        current = InfoSheet.objects.get(pk=sheet.pk)
        for name, value in fields.items():
            setattr(current, name, value)
        fields.setdefault("published_content", sheet_content(current))
    InfoSheet.objects.filter(pk=sheet.pk).update(status=status, **fields)
    sheet.refresh_from_db()
    return sheet


def make_public_site(**kwargs) -> HostSite:
    """An active site with a published, ready sheet: what the public catalogue lists."""
    site = HostSiteFactory(status=HostSite.Status.ACTIVE, **kwargs)
    make_sheet(site, status="published", ready=True, accommodation="Studio au-dessus de la MSP")
    return site


def _rpps(n: int) -> str:
    base = f"10{n:08d}"
    return next(base + str(d) for d in range(10) if luhn_is_valid(base + str(d)))


class VolunteerFactory(factory.django.DjangoModelFactory):
    """A verified volunteer with a valid commitment (bookable) unless told otherwise."""

    class Meta:
        model = "volunteers.Volunteer"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    rpps = factory.Sequence(_rpps)
    practice_status = "retired"
    home_department_id = "45"
    status = "verified"

    @factory.post_generation
    def territories(obj, create, extracted, **kwargs):
        """`territories=[...]`: the volunteer's preferred territories (what staff see)."""
        if create and extracted:
            obj.preferred_territories.set(extracted)

    @factory.post_generation
    def committed(obj, create, extracted, **kwargs):
        from django.utils import timezone

        from accounts.roles import Role
        from sites.models import Membership
        from volunteers.services import commitment_sign

        if not create:
            return
        Membership.objects.get_or_create(user=obj.user, role=Role.VOLUNTEER)
        if extracted is not False:
            commitment_sign(volunteer=obj, charter_version="1", now=timezone.now())


def open_day(site: HostSite, day, period: str = "day", **fields):
    """An open vacation at `site`, written directly (tests of later transitions)."""
    from vacations.models import Vacation, slot_bounds

    starts_at, ends_at = slot_bounds(day, period)
    return Vacation.objects.create(
        site=site, date=day, period=period, starts_at=starts_at, ends_at=ends_at,
        consultation_minutes=20, **fields,
    )  # fmt: skip


def handed_over(*vacations):
    """Write each day's handover (a day is closed only with one), as its volunteer or staff."""
    from continuity.models import Handover

    for vacation in vacations:
        vacation.refresh_from_db()
        author = vacation.volunteer.user if vacation.volunteer_id else None
        Handover.objects.create(
            vacation=vacation, author=author or vacation.site.memberships.first().user, text="RAS"
        )


def track_legs(*exams) -> None:
    """The legs of closed exams written straight to the database, as the migration from the
    booleans makes them (`continuity` 0003): a true boolean → done at the closing (by the
    closer, else by the exam's author), false → pending; the treating doctor's leg pending
    when that doctor is elsewhere, else not applicable."""
    from continuity.models import ExamLeg

    legs = []
    for exam in exams:
        if exam.status != "closed":
            continue
        by = exam.closed_by_id or exam.created_by_id
        for name, boolean in ExamLeg.BOOLEAN.items():
            done = getattr(exam, boolean)
            legs.append(
                ExamLeg(
                    exam_id=exam.pk, leg=name, status="done" if done else "pending",
                    at=exam.closed_at if done else None, by_id=by if done else None,
                )
            )  # fmt: skip
        elsewhere = exam.treating_doctor_status == "elsewhere"
        legs.append(
            ExamLeg(
                exam_id=exam.pk, leg="treating_doctor",
                status="pending" if elsewhere else "not_applicable",
                reason="" if elsewhere else "Pas de médecin traitant ailleurs",
            )
        )  # fmt: skip
    ExamLeg.objects.bulk_create(legs)
