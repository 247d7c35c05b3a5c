"""A volunteer answers a site's question about a result from a phone (360 px)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.roles import Role
from continuity import services
from continuity.models import ContactRequest
from tests.conftest import member
from tests.factories import HostSiteFactory, VolunteerFactory, open_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"  # VolunteerFactory's


@pytest.fixture
def question(db):
    """An abnormal result of an exam the volunteer prescribed yesterday, and the nurse's
    question about it (long names first: what would overflow a phone's width)."""
    volunteer = VolunteerFactory(
        user__first_name="Marie-Hélène", user__last_name="Delacroix-Vasseur"
    )
    EmailAddress.objects.create(
        user=volunteer.user, email=volunteer.user.email, verified=True, primary=True
    )
    site = HostSiteFactory(
        name="Maison de santé pluriprofessionnelle universitaire de Saint-Amand-Montrond"
    )
    nurse = member(Role.COURSE_NURSE, site=site)
    day = open_day(
        site, timezone.localdate() - timedelta(days=1), status="booked", volunteer=volunteer
    )
    (exam,) = services.exams_record(
        vacation=day,
        by=volunteer.user,
        rows=[
            {
                "patient_ref": "MSP-2024-000421-BIS",
                "patient_initials": "JD",
                "patient_birth_year": 1958,
                "kind": "biology",
                "description": "Ionogramme sanguin, créatininémie avec DFG (CKD-EPI), NFS",
                "order_number": "CMD-2026-000142-LABORATOIRE-CENTRE",
            }
        ],
    )
    services.exam_receive(
        exam=exam, by=nurse, abnormal=True, result_summary="Kaliémie à 6,1 mmol/L (N < 5,0)."
    )
    return volunteer, services.contact_prescriber(
        task=exam.tasks.get(),
        by=nurse,
        question="Kaliémie à 6,1 : faut-il un contrôle à J2 ou une orientation aux urgences ?",
    )


def test_a_volunteer_answers_a_question_from_a_phone(live_server, phone, question):
    volunteer, contact = question
    phone.goto(f"{live_server.url}/accounts/login/?next=/suivi/mes-suivis/%23question-{contact.pk}")
    phone.locator('input[name="login"]').fill(volunteer.user.email)
    phone.locator('input[name="password"]').fill(PASSWORD)
    phone.keyboard.press("Enter")

    card = phone.locator(f"#question-{contact.pk}")
    card.wait_for()
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert card.bounding_box()["width"] <= 360
    assert "Kaliémie à 6,1" in card.inner_text()

    card.locator("textarea").fill("Contrôle à J2 au laboratoire, urgences si > 6,5.")
    card.locator('button[type="submit"]').click()
    phone.locator(".fr-alert--success").wait_for()

    assert phone.get_by_test_id("no-question").is_visible()
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    contact.refresh_from_db()
    assert (contact.status, contact.answer) == (
        "answered",
        "Contrôle à J2 au laboratoire, urgences si > 6,5.",
    )
    assert ContactRequest.objects.get().task.status == "in_progress"
