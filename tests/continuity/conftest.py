"""Continuity fixtures: a site with its course nurse, a volunteer's day done yesterday."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity import services
from tests.conftest import member
from tests.factories import VolunteerFactory, open_day

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def nurse(site):
    return member(Role.COURSE_NURSE, site=site)


@pytest.fixture
def prescriber(db):
    return VolunteerFactory()


@pytest.fixture
def day(site, prescriber):
    """A booked day, yesterday, at `site` with `prescriber`."""
    return open_day(
        site, timezone.localdate() - timedelta(days=1), status="booked", volunteer=prescriber
    )


def record_exam(day, by=None, **fields):
    row = {
        "patient_ref": "MSP-00421",
        "patient_initials": "JD",
        "patient_birth_year": 1958,
        "kind": "biology",
        "description": "Ionogramme, créatinine",
        "order_number": "CMD-2026-000142",
        **fields,
    }
    (exam,) = services.exams_record(vacation=day, by=by or day.volunteer.user, rows=[row])
    return exam
