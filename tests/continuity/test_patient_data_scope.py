"""Hole 3: a volunteer reaches a site's patient data only through a day it holds.

A request (no acceptance needed, withdrawable at once) opens nothing; a booked day opens the
site's handovers; a day worked (done) keeps its own handovers, exams and questions visible.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from continuity import services
from continuity.models import ContactRequest, FollowUpTask, Handover, PendingExam
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services as vacations

pytestmark = pytest.mark.django_db

SECRET = "Pansement de M. X à refaire"


@pytest.fixture
def public_site(db):
    return make_public_site()


@pytest.fixture
def site_nurse(public_site):
    return member(Role.COURSE_NURSE, site=public_site)


@pytest.fixture
def handover(public_site, site_nurse):
    """Last week's day at the site, with its handover and a patient reference."""
    past = open_day(
        public_site,
        timezone.localdate() - timedelta(days=7),
        status="done",
        volunteer=VolunteerFactory(),
    )
    return Handover.objects.create(
        vacation=past, author=site_nurse, text=SECRET, patient_refs=["MSP-77"]
    )


@pytest.fixture
def coming(public_site):
    """An open day next week at the site."""
    return open_day(public_site, timezone.localdate() + timedelta(days=7))


def _sees(client, api, user, handover) -> dict[str, bool]:
    client.force_login(user)
    api.force_authenticate(user)
    listed = api.get("/api/v1/handovers/").json()["results"]
    page = client.get(reverse("continuity_handovers"), {"site": handover.vacation.site_id})
    return {
        "api_list": any(row["id"] == handover.pk for row in listed),
        "api_detail": api.get(f"/api/v1/handovers/{handover.pk}/").status_code == 200,
        "page_list": handover.text in page.content.decode(),
        "page_detail": client.get(reverse("continuity_handover", args=[handover.pk])).status_code
        == 200,
    }


NOTHING = dict.fromkeys(["api_list", "api_detail", "page_list", "page_detail"], False)
EVERYTHING = dict.fromkeys(NOTHING, True)


def test_hole3_a_requested_day_shows_no_handover_page_or_api(client, api, handover, coming):
    volunteer = VolunteerFactory()
    vacations.vacation_request(vacation=coming, volunteer=volunteer)
    coming.refresh_from_db()
    assert coming.status == "requested"
    assert _sees(client, api, volunteer.user, handover) == NOTHING
    # Both 404s, not 403s: the handover is not even known to exist.
    assert client.get(reverse("continuity_handover", args=[handover.pk])).status_code == 404
    assert api.get(f"/api/v1/handovers/{handover.pk}/").status_code == 404


def test_hole3_a_booked_day_shows_the_sites_handovers_then_a_withdrawal_hides_them(
    client, api, handover, coming, site_nurse
):
    volunteer = VolunteerFactory()
    vacations.vacation_request(vacation=coming, volunteer=volunteer)
    vacations.vacation_book(vacation=coming, volunteer=volunteer, by=site_nurse)
    assert _sees(client, api, volunteer.user, handover) == EVERYTHING
    vacations.vacation_withdraw(vacation=coming, volunteer=volunteer)
    assert _sees(client, api, volunteer.user, handover) == NOTHING


def test_hole3_a_withdrawn_request_shows_nothing(client, api, handover, coming):
    volunteer = VolunteerFactory()
    vacations.vacation_request(vacation=coming, volunteer=volunteer)
    vacations.vacation_withdraw(vacation=coming, volunteer=volunteer)
    assert _sees(client, api, volunteer.user, handover) == NOTHING


def test_hole3_a_day_worked_keeps_its_handovers_visible(client, api, handover):
    worker = handover.vacation.volunteer  # the done day's volunteer (the nurse wrote it)
    assert _sees(client, api, worker.user, handover) == EVERYTHING
    # Another volunteer's day at the site, with nothing booked there now, stays hidden.
    other = Handover.objects.create(
        vacation=open_day(
            handover.vacation.site,
            timezone.localdate() - timedelta(days=14),
            status="done",
            volunteer=VolunteerFactory(),
        ),
        author=handover.author,
        text="Autre jour",
    )
    assert _sees(client, api, worker.user, other) == NOTHING


def test_hole3_exams_and_questions_follow_the_same_rule(site, nurse, prescriber):
    """The prescriber sees its exams and the questions about them while the day is held
    (booked, then done); a day given back (withdrawn on the day) takes them away."""
    today = open_day(site, timezone.localdate(), status="booked", volunteer=prescriber)
    exam = record_exam(today)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    task = FollowUpTask.objects.get(exam=exam)
    question = services.contact_prescriber(task=task, by=nurse, question="Contrôle à J7 ?")
    user = prescriber.user
    assert list(PendingExam.objects.visible_to(user)) == [exam]
    assert list(ContactRequest.objects.visible_to(user)) == [question]
    vacations.vacation_withdraw(vacation=today, volunteer=prescriber)
    assert not PendingExam.objects.visible_to(user).exists()
    assert not ContactRequest.objects.visible_to(user).exists()
    # The site's staff still see everything.
    assert list(PendingExam.objects.visible_to(nurse)) == [exam]
