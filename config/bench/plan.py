"""What the bench measures on a data set: personas (one account of each role, signed in), the
pages and API lists with their URLs, the ingestion sender and the contended month. Runs inside
the bench database (`manage.py bench --phase prepare`)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services import api_token_create
from continuity.models import PendingExam
from sites.models import HostSite, Membership
from vacations.models import Vacation
from volunteers.models import Volunteer

# Messages sent by the ingestion measurement (single and batches, HL7 and FHIR).
INGESTED = 240
# name → (kind, persona): kind says which budget applies.
PAGE_KINDS = ("page", "api", "dashboard", "pdf", "floor")


def session_cookie(user: User) -> str:
    """A signed-in session for `user`, as the login view would leave it (no second factor:
    the bench server does not ask one, see config/bench/settings.py)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _member(role: str, **scope) -> User:
    return Membership.objects.filter(role=role, **scope).select_related("user").first().user


def _awaiting_exams(site: HostSite, n: int) -> list[tuple[str, str]]:
    """`n` exams awaiting their result at `site`, written for this run (order number, patient)."""
    template = PendingExam.objects.filter(site=site).order_by("pk").first()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    copies = []
    fields = {
        field.attname: getattr(template, field.attname)
        for field in PendingExam._meta.concrete_fields
        if not field.primary_key
    }
    for number in range(n):
        exam = PendingExam(**fields)
        exam.status = PendingExam.Status.AWAITING
        exam.received_at = exam.reviewed_at = exam.closed_at = exam.closed_by = None
        exam.abnormal, exam.result_summary, exam.review_note = None, "", ""
        exam.responsible = exam.treating_doctor_status = ""
        exam.dmp_deposited = exam.sent_to_patient_space = exam.sent_to_prescriber = False
        exam.order_number = f"BENCH-{stamp}-{number}"
        copies.append(exam)
    PendingExam.objects.bulk_create(copies)
    return [(exam.order_number, exam.patient_ref) for exam in copies]


def build() -> dict:
    today = timezone.localdate()
    # The busiest site: its staff, its managers; the volunteer with the most days.
    site = HostSite.objects.annotate(n=Count("vacations")).order_by("-n", "pk").first()
    region = site.territory.department.region_id
    volunteer = (
        Volunteer.objects.annotate(n=Count("vacations", filter=Q(vacations__date__gte=today)))
        .order_by("-n", "pk")
        .first()
    )
    users = {
        "secretary": _member(Role.SECRETARY, site=site),
        "nurse": _member(Role.COURSE_NURSE, site=site),
        "territory": _member(Role.TERRITORY_MANAGER, territory=site.territory),
        "ars": _member(Role.ARS_MANAGER, region_id=region),
        "national": _member(Role.NATIONAL_MANAGER),
        "volunteer": volunteer.user,
    }
    cookies = {name: session_cookie(user) for name, user in users.items()}
    cookies["anonymous"] = ""
    day = Vacation.objects.filter(site=site, status=Vacation.Status.DONE).order_by("-date").first()
    pages = [
        ("floor", "floor", "secretary", "/bench/floor/"),
        ("site month calendar", "page", "secretary", f"/sites/{site.pk}/planning/"),
        ("day page", "page", "secretary", f"/jours/{day.pk}/"),
        ("my planning", "page", "volunteer", "/mon-planning/"),
        ("open-days search", "page", "volunteer", "/jours-ouverts/"),
        ("nurse worklist", "page", "nurse", "/suivi/"),
        ("exam tracker", "page", "nurse", "/suivi/examens/"),
        ("coverage", "page", "territory", "/couverture/"),
        ("dashboard (territory)", "dashboard", "territory", "/pilotage/"),
        ("dashboard (ARS)", "dashboard", "ars", "/pilotage/"),
        ("dashboard (national)", "dashboard", "national", "/pilotage/"),
        ("report coverage", "dashboard", "national", "/pilotage/couverture/"),
        ("report readiness", "dashboard", "national", "/pilotage/preparation/"),
        ("report indemnities", "dashboard", "national", "/pilotage/indemnites/"),
        ("report continuity", "dashboard", "national", "/pilotage/suivi/"),
        ("API report coverage", "dashboard", "national", "/api/v1/reports/coverage/"),
        ("API report indemnities", "dashboard", "national", "/api/v1/reports/indemnities/"),
        ("API report continuity", "dashboard", "national", "/api/v1/reports/continuity/"),
        ("public catalogue", "page", "anonymous", "/lieux/"),
        ("public site sheet", "page", "anonymous", f"/lieux/{site.pk}/"),
        ("sheet PDF", "pdf", "anonymous", f"/lieux/{site.pk}/fiche.pdf"),
        ("iCal feed", "page", "anonymous", f"/calendar/{volunteer.calendar_token}.ics"),
        ("API vacations (volunteer)", "api", "volunteer", "/api/v1/vacations/"),
        ("API vacations (secretary)", "api", "secretary", "/api/v1/vacations/"),
        ("API exams", "api", "nurse", "/api/v1/exams/"),
        ("API tasks", "api", "nurse", "/api/v1/tasks/"),
        ("API schema", "api", "anonymous", "/api/v1/schema/"),
    ]
    # Ingestion: the busiest site's secretary sends results, as a lab does: four in five for
    # exams awaiting there (written now, copies of one of the site's exams: the site has only
    # a handful awaiting), one in five for an unknown order number (stored, then quarantined).
    awaiting = iter(_awaiting_exams(site, INGESTED))
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    messages = [
        (f"BENCH-{stamp}-UNKNOWN-{n}", f"P-UNKNOWN-{n}") if n % 5 == 4 else next(awaiting)
        for n in range(INGESTED)
    ]
    # Contention: the site and month with the most open days ahead, and 20 volunteers free
    # that month (no day there yet).
    busiest = (
        Vacation.objects.filter(status=Vacation.Status.OPEN, date__gt=today)
        .values("site", "date__year", "date__month")
        .annotate(n=Count("pk"))
        .order_by("-n", "site")
        .first()
    )
    contention = None
    if busiest:
        year, month = busiest["date__year"], busiest["date__month"]
        open_days = list(
            Vacation.objects.filter(
                site=busiest["site"], status=Vacation.Status.OPEN, date__year=year,
                date__month=month, date__gt=today,
            ).values_list("pk", flat=True)
        )  # fmt: skip
        busy = Vacation.objects.filter(
            date__year=year, date__month=month, volunteer__isnull=False
        ).values("volunteer")
        free = (
            Volunteer.objects.filter(status=Volunteer.Status.VERIFIED)
            .exclude(pk__in=busy)
            .order_by("pk")[:20]
        )
        contention = {
            "site": busiest["site"],
            "year": year,
            "month": month,
            "days": open_days,
            "tokens": [api_token_create(user=v.user, name="bench")[1] for v in free],
            "secretary_token": api_token_create(
                user=_member(Role.SECRETARY, site_id=busiest["site"]), name="bench"
            )[1],
        }
    return {
        "site": site.pk,
        "cookies": cookies,
        "pages": [{"name": n, "kind": k, "persona": p, "path": path} for n, k, p, path in pages],
        "ingestion": {
            "token": api_token_create(user=users["secretary"], name="bench")[1],
            "exams": messages,
        },
        "contention": contention,
    }
