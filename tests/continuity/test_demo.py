"""The demo world shows follow-up in every state (issue: continuity of care, demo world)."""

from __future__ import annotations

from django.core.management import call_command

from continuity.models import ContactRequest, FollowUpTask, Handover, IncomingResult, PendingExam
from sites.demo import FIRST_SITE
from vacations.models import Vacation


def test_the_demo_world_has_follow_up_in_every_state(db):
    call_command("seed_demo")
    counts = [m.objects.count() for m in (PendingExam, FollowUpTask, Handover, IncomingResult)]
    statuses = set(PendingExam.objects.values_list("status", flat=True))
    assert statuses == {"awaiting", "received", "reviewed", "closed", "cancelled"}
    active = FollowUpTask.objects.active()
    assert active.filter(escalation_level__gte=1, escalations__isnull=False).exists()
    assert active.overdue().exists()
    assert active.filter(escalation_level=0).exists()
    waiting = ContactRequest.objects.get(status="waiting")
    assert waiting.volunteer.user.email == "dr.martin@demo.releve.fr"
    assert IncomingResult.objects.filter(outcome="quarantined").count() == 1
    assert Handover.objects.filter(vacation__site__name=FIRST_SITE).exists()
    # Every past day is closed: done with its exams or "none", and a handover.
    done = Vacation.objects.filter(status="done")
    assert done.exists()
    assert not done.filter(handovers__isnull=True).exists()

    call_command("seed_demo")
    assert [
        m.objects.count() for m in (PendingExam, FollowUpTask, Handover, IncomingResult)
    ] == counts
