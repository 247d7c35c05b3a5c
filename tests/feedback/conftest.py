from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity import services as continuity
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day


@pytest.fixture
def site(db):
    return make_public_site(city="Châteaumeillant")


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def nurse(site):
    return member(Role.COURSE_NURSE, site=site)


@pytest.fixture
def territory_manager(site):
    return member(Role.TERRITORY_MANAGER, territory=site.territory)


@pytest.fixture
def doctor(db):
    return VolunteerFactory()


@pytest.fixture
def booked(site, doctor):
    return open_day(
        site, timezone.localdate() - timedelta(days=1), status="booked", volunteer=doctor
    )


def close(day, by):
    """Close a booked day as the app does (its handover written, no exam), as `by`."""
    continuity.handover_write(vacation=day, by=by, text="RAS", patient_refs=[])
    continuity.day_close(vacation=day, by=by, consultations_count=12, no_exams=True)
    day.refresh_from_db()
    return day


@pytest.fixture
def done(booked, doctor):
    return close(booked, doctor.user)


SCORES = {"welcome": 5, "organisation": 4, "patient_load": 3, "equipment": 2}
