"""A message about a transition is written once, whenever it is asked for; a new transition of
the same kind (a day requested again after a withdrawal) is a new message."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services


def test_telling_twice_about_one_booking_at_different_times_sends_one_message(db):
    site = make_public_site()
    secretary = member(Role.SECRETARY, site=site)
    volunteer = VolunteerFactory()
    day = open_day(site, timezone.localdate() + timedelta(days=10))
    now = timezone.now()

    booked = services.vacation_book(vacation=day, volunteer=volunteer, by=secretary, now=now)
    services.notify_volunteer(booked, kind="vacation_booked", now=now + timedelta(minutes=7))

    assert (
        Notification.objects.filter(recipient=volunteer.user, kind="vacation_booked").count() == 1
    )


def test_a_day_requested_again_after_a_withdrawal_is_told_again(db):
    site = make_public_site()
    secretary = member(Role.SECRETARY, site=site)
    volunteer = VolunteerFactory()
    day = open_day(site, timezone.localdate() + timedelta(days=10))
    now = timezone.now()

    services.vacation_request(vacation=day, volunteer=volunteer, now=now)
    services.vacation_withdraw(vacation=day, volunteer=volunteer, now=now + timedelta(minutes=1))
    services.vacation_request(vacation=day, volunteer=volunteer, now=now + timedelta(minutes=2))

    assert Notification.objects.filter(recipient=secretary, kind="vacation_requested").count() == 2
