"""The demo world's feedback and incident: Dr Martin's first done day, answered by him and
by the site, and a minor equipment incident on it, in progress (`manage.py seed_demo`)."""

from __future__ import annotations

from django.db import transaction

from accounts.roles import SITE_STAFF_ROLES
from feedback import services
from feedback.models import DayFeedback, FeedbackRequest, Incident, Side
from sites.models import Membership
from vacations.models import Vacation


@transaction.atomic
def seed() -> int:
    """Once: a world with feedback is left alone. Returns how many rows were written."""
    if DayFeedback.objects.exists() or Incident.objects.exists():
        return 0
    day = (
        Vacation.objects.filter(
            status=Vacation.Status.DONE, volunteer__user__email="dr.martin@demo.releve.fr"
        )
        .select_related("volunteer__user", "site")
        .order_by("date")
        .first()
    )
    if day is None:
        return 0
    member = (
        Membership.objects.filter(site=day.site, role__in=SITE_STAFF_ROLES)
        .select_related("user")
        .order_by("role", "pk")
        .first()
    )
    if member is None:
        return 0
    staff = member.user
    martin = day.volunteer.user
    # Both sides were asked after the day: nothing to ask again.
    FeedbackRequest.objects.bulk_create(
        [FeedbackRequest(vacation=day, side=side, asked_at=day.done_at) for side in Side.values],
        ignore_conflicts=True,
    )
    services.feedback_give(
        vacation=day, by=martin, welcome=5, organisation=4, patient_load=3, equipment=2,
        missing_equipment=True,
        went_well="Accueil chaleureux, secrétariat très disponible.",
        comment="Pas d'électrocardiogramme au cabinet ; le bioserveur n'était pas paramétré.",
    )  # fmt: skip
    services.feedback_give(
        vacation=day, by=staff, welcome=5, organisation=4, patient_load=4, equipment=3,
        went_well="Le médecin a vu tous les patients prévus.",
    )  # fmt: skip
    incident = services.incident_report(
        vacation=day, by=martin, kind=Incident.Kind.EQUIPMENT, severity=Incident.Severity.MINOR,
        what_happened="L'électrocardiographe ne s'allume pas.",
        actions_taken="Patient adressé au cabinet voisin pour l'ECG.",
    )  # fmt: skip
    services.incident_status(
        incident=incident, by=staff, status=Incident.Status.IN_PROGRESS,
        comment="Devis de réparation demandé.",
    )  # fmt: skip
    return 3
