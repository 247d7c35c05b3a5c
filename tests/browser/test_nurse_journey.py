"""The nurse's journey (issue 12), at 360 px and 1366 px: an urgent potassium result comes in
through the real ingestion, is escalated overnight to the territory manager, and the course
nurse works it from her inbox and worklist to closure. She reads it for humans ("6,4 mmol/L —
très élevé"), opens the raw message one click away, starts the task, marks it done with a
note, closes the exam's follow-up; the exam page then tells who did what, when, and no longer
names the manager as the one holding the task. Every page: screenshot, no sideways scroll,
axe 0 critical/serious (tests.browser.journey)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import pgettext

from accounts.roles import Role
from continuity import ingest, services
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.continuity.messages import HL7, potassium_oru
from tests.factories import (
    HostSiteFactory,
    MembershipFactory,
    UserFactory,
    VolunteerFactory,
    open_day,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(settings):
    """A site with its course nurse, its lab interface account and its territory manager; a
    day done three days ago with a ionogram, whose urgent result came 30 hours ago and was escalated
    to the manager 6 hours ago (nobody had done it by its deadline)."""
    settings.RELEVE_ENFORCE_MFA = False
    site = HostSiteFactory(name="Maison de santé de Châteaumeillant")
    nurse = UserFactory(first_name="Claire", last_name="Morel")
    MembershipFactory(role=Role.COURSE_NURSE, user=nurse, site=site)
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    lab = member(Role.SECRETARY, site=site)
    doctor = VolunteerFactory()
    day = open_day(
        site, timezone.localdate() - timedelta(days=3), status="booked", volunteer=doctor
    )
    # The story happened over the last days: each step at its own time (the history too).
    received = timezone.now() - timedelta(hours=30)
    with time_machine.travel(received - timedelta(hours=2), tick=True):
        (exam,) = services.exams_record(
            vacation=day,
            by=doctor.user,
            rows=[{
                "patient_ref": "MSP-00421", "patient_initials": "JD", "patient_birth_year": 1958,
                "kind": "biology", "description": "Ionogramme", "order_number": "CMD-K-64",
            }],
        )  # fmt: skip
    with time_machine.travel(received, tick=True):
        incoming = ingest.ingest(
            fmt="hl7v2",
            body=potassium_oru("CMD-K-64", "MSP-00421"),
            content_type=HL7,
            caller=lab,
        )
        assert incoming.outcome == IncomingResult.Outcome.MATCHED
    task = FollowUpTask.objects.get(exam=exam)
    assert task.assignee == nurse
    with time_machine.travel(timezone.now() - timedelta(hours=6), tick=True):
        assert services.escalate(task) is not None
    task.refresh_from_db()
    assert task.assignee == manager
    return {"nurse": nurse, "manager": manager, "exam": exam, "task": task}


def flag(words: str) -> str:
    with translation.override("fr"):
        return pgettext("lab result flag", words)


def label(choice) -> str:
    with translation.override("fr"):
        return str(choice.label)


def test_the_nurse_works_an_urgent_result_from_her_worklist_to_closure(
    live_server, viewport, world
):
    page, nurse, task = viewport, world["nurse"], world["task"]
    journey = Journey(page, "nurse")
    sign_in_as(page, live_server, nurse)

    page.goto(f"{live_server.url}/notifications/")
    journey.check("inbox")

    page.goto(f"{live_server.url}/suivi/")
    journey.check("worklist")
    page.get_by_role("link", name=task.title).first.click()
    page.wait_for_url(re.compile(rf"/suivi/taches/{task.pk}/$"))
    journey.check("urgent task")
    result = page.get_by_test_id("result").first
    assert "6,4 mmol/L" in result.inner_text()
    assert f"6,4 mmol/L — {flag('very high')}" in result.text_content()
    assert "3,5–5,0" in result.text_content()
    assert result.locator("[data-severity=critical]").count() == 1

    page.get_by_role("link", name=fr("See the raw message")).first.click()
    page.wait_for_url(re.compile(r"/suivi/resultats/\d+/message/$"))
    journey.check("raw message")
    assert "OBX|1|NM|2823-3^Potassium^LN||6.4|mmol/L|3.5-5.0|HH" in (
        page.get_by_test_id("raw-message").text_content()
    )
    page.go_back()
    page.wait_for_url(re.compile(rf"/suivi/taches/{task.pk}/$"))

    page.get_by_role("button", name=fr("Start this task")).click()
    page.wait_for_url(re.compile(rf"/suivi/taches/{task.pk}/$"))
    journey.check("task started")
    page.get_by_label(fr("What was done")).fill("Patiente rappelée, contrôle demain au cabinet.")
    page.get_by_role("button", name=fr("The task is done")).click()
    page.wait_for_url(re.compile(rf"/suivi/taches/{task.pk}/$"))
    journey.check("task done")

    page.get_by_role("link", name=fr("Open the exam (record or close its result)")).click()
    page.wait_for_url(re.compile(rf"/suivi/examens/{world['exam'].pk}/$"))
    journey.check("exam to close")
    page.get_by_label(label(PendingExam.Responsible.SITE_DOCTOR)).check(force=True)
    page.get_by_label(label(PendingExam.TreatingDoctorStatus.AT_SITE)).check(force=True)
    # The three routing legs are done: closing refuses while one is pending (issue 13).
    page.get_by_label(fr("Deposited in the DMP")).check(force=True)
    page.get_by_label(fr("Sent to the patient's Mon espace santé")).check(force=True)
    page.get_by_label(fr("Sent to the prescribing volunteer")).check(force=True)
    page.get_by_role("button", name=fr("Close the follow-up")).click()
    page.wait_for_url(re.compile(rf"/suivi/examens/{world['exam'].pk}/$"))
    journey.check("exam closed")

    # Who did what, when: the nurse did the task the manager had been escalated it to.
    name, manager = nurse.get_full_name(), world["manager"].get_full_name()
    owner = page.get_by_test_id("task-owner").first.text_content()
    assert name in owner
    assert manager not in owner
    story = page.get_by_test_id("timeline")
    for kind in ("recorded", "received", "assigned", "escalated", "started", "done", "closed"):
        assert story.locator(f"[data-event={kind}]").count() >= 1, kind
    assert manager in story.locator("[data-event=escalated]").text_content()
    assert name in story.locator("[data-event=done]").text_content()
    assert "contrôle demain" in story.locator("[data-event=done]").text_content()
    assert name in story.locator("[data-event=closed]").text_content()
