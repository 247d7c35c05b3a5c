"""Races on PostgreSQL: the same result message delivered twice at once gives one task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity import ingest
from continuity.models import FollowUpTask, IncomingResult
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.factories import HostSiteFactory, VolunteerFactory, open_day
from tests.vacations.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Row locks and the exclusion constraint are PostgreSQL's: CI's PostgreSQL pass runs these.
    pytest.mark.postgres,
]


def test_the_same_message_delivered_four_times_at_once_makes_one_task():
    site = HostSiteFactory()
    member(Role.COURSE_NURSE, site=site)
    sender = member(Role.SECRETARY, site=site)
    day = open_day(
        site,
        timezone.localdate() - timedelta(days=1),
        status="booked",
        volunteer=VolunteerFactory(),
    )
    exam = record_exam(day, order_number="CMD-2026-000145", patient_ref="MSP-00388")
    body = sample("oru_abnormal_flags.hl7")

    def deliver():
        ingest.ingest(fmt="hl7v2", body=body, content_type="application/hl7-v2", caller=sender)

    assert race([deliver] * 4) == ["ok"] * 4
    assert FollowUpTask.objects.filter(exam=exam).count() == 1
    outcomes = sorted(IncomingResult.objects.values_list("outcome", flat=True))
    assert outcomes == ["matched"] * 4
    assert IncomingResult.objects.filter(replay_of__isnull=False).count() == 3
