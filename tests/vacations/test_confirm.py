"""Confirming a request is the booking service's rule, not the page's: a day withdrawn (or
never requested) meanwhile is refused under its lock, whatever the page last read."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.errors import DomainError
from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services
from vacations.models import PARIS, Vacation


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(datetime(2027, 3, 1, 10, 0, tzinfo=PARIS), tick=False):
        yield


def test_it_refuses_to_confirm_a_request_withdrawn_meanwhile(db):
    site = make_public_site(rooms=2)
    secretary = member(Role.SECRETARY, site=site)
    volunteer = VolunteerFactory(territories=[site.territory])
    day = open_day(site, date(2027, 3, 9))
    services.vacation_request(vacation=day, volunteer=volunteer)
    seen_by_staff = Vacation.objects.select_related("volunteer").get(pk=day.pk)  # requested
    services.vacation_withdraw(vacation=day, volunteer=volunteer)

    with pytest.raises(DomainError) as refusal:
        services.vacation_book(
            vacation=seen_by_staff, volunteer=seen_by_staff.volunteer, by=secretary,
            confirming=True,
        )  # fmt: skip

    assert refusal.value.code == "invalid_transition"
    day.refresh_from_db()
    assert (day.status, day.volunteer) == ("open", None)


def test_the_confirm_page_refuses_a_day_without_request(client, db):
    site = make_public_site(rooms=2)
    secretary = member(Role.SECRETARY, site=site)
    day = open_day(site, date(2027, 3, 9))
    client.force_login(secretary)

    response = client.post(reverse("vacation_confirm", args=[day.pk]))

    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    day.refresh_from_db()
    assert (day.status, day.volunteer) == ("open", None)
