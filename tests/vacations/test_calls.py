from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Notification
from accounts.roles import Role
from tests.conftest import member
from tests.factories import TerritoryFactory, VolunteerFactory, make_public_site, open_day
from vacations.calls import call_for_volunteers
from vacations.models import PARIS
from volunteers.services import availability_declare

MORNING = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)
IN_14_DAYS = date(2027, 3, 15)
IN_7_DAYS = date(2027, 3, 8)


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def site(db):
    return make_public_site()


def asked(kind="call_for_volunteers"):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient", flat=True))


def test_14_days_ahead_the_day_goes_to_those_who_said_they_are_free(site):
    day = open_day(site, IN_14_DAYS)
    free_here = VolunteerFactory()
    availability_declare(volunteer=free_here, date=IN_14_DAYS, territories=[site.territory])
    free_elsewhere = VolunteerFactory()
    availability_declare(
        volunteer=free_elsewhere, date=IN_14_DAYS, territories=[TerritoryFactory()]
    )
    pending = VolunteerFactory(status="pending")
    availability_declare(volunteer=pending, date=IN_14_DAYS)
    VolunteerFactory(territories=[site.territory])  # chose it, but did not say "free then"

    first = call_for_volunteers()
    second = call_for_volunteers()

    assert (first, second) == (1, 0)
    assert asked() == [free_here.user.pk]
    assert Notification.objects.get().context["vacation"] == str(day.pk)


def test_7_days_ahead_it_goes_to_everyone_who_chose_the_territory_with_quota_left(site):
    open_day(site, IN_7_DAYS)
    chose_it = VolunteerFactory(territories=[site.territory])
    full = VolunteerFactory(territories=[site.territory])
    other = make_public_site(rooms=3)
    for day in (date(2027, 3, 2), date(2027, 3, 3)):
        open_day(other, day, status="booked", volunteer=full)
    VolunteerFactory(territories=[TerritoryFactory()])

    call_for_volunteers()
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        call_for_volunteers()

    assert asked() == [chose_it.user.pk]


def test_a_taken_day_is_not_offered(site):
    VolunteerFactory(territories=[site.territory])
    open_day(site, IN_7_DAYS, status="booked", volunteer=VolunteerFactory())

    call_command("run_job", "call_for_volunteers")

    assert asked() == []


def test_the_site_team_sees_who_was_asked(client, site):
    day = open_day(site, IN_7_DAYS)
    volunteer = VolunteerFactory(territories=[site.territory], user__last_name="Garnier")
    call_for_volunteers()
    client.force_login(member(Role.SECRETARY, site=site))

    page = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()

    assert 'data-testid="asked"' in page
    assert volunteer.user.get_full_name() in page
