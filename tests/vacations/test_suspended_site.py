"""A suspended site keeps the days it opened, but nobody can take them any more: booking and
requesting check the site like opening does (`check_site_bookable`, in the services)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.errors import DomainError
from accounts.roles import Role
from sites import services as sites_services
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services
from vacations.models import PARIS

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def site(db):
    return make_public_site(rooms=2)


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def manager(site):
    return member(Role.TERRITORY_MANAGER, territory=site.territory)


@pytest.fixture
def day(site):
    return open_day(site, date(2027, 3, 9))


def suspend(site, by):
    sites_services.site_update(site=site, by=by, status="suspended")


@pytest.fixture
def manager_volunteer(manager, site):
    """A territory manager who also volunteers: the one who still sees the open days of a
    suspended site of its territory (the public catalogue no longer lists them)."""
    return VolunteerFactory(user=manager, territories=[site.territory])


def test_it_refuses_to_book_a_day_at_a_suspended_site(api, client, site, secretary, manager, day):
    volunteer = VolunteerFactory(territories=[site.territory])
    suspend(site, manager)

    with pytest.raises(DomainError) as refusal:
        services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
    assert refusal.value.code == "not_bookable"

    api.force_authenticate(secretary)
    response = api.post(
        f"/api/v1/vacations/{day.pk}/book/", {"volunteer": volunteer.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_bookable"

    client.force_login(secretary)
    page = client.post(reverse("vacation_book_page", args=[day.pk]), {"volunteer": volunteer.pk})
    assert page.status_code == 200
    assert 'data-testid="refusal" data-code="not_bookable"' in page.content.decode()

    day.refresh_from_db()
    assert (day.status, day.volunteer) == ("open", None)


def test_it_refuses_to_book_a_requested_day_once_the_site_is_suspended(
    api, site, secretary, manager, day
):
    volunteer = VolunteerFactory(territories=[site.territory])
    services.vacation_request(vacation=day, volunteer=volunteer)
    suspend(site, manager)

    api.force_authenticate(secretary)
    response = api.post(
        f"/api/v1/vacations/{day.pk}/book/", {"volunteer": volunteer.pk}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_bookable"
    day.refresh_from_db()
    assert day.status == "requested"


def test_it_refuses_to_request_a_day_at_a_suspended_site(
    api, client, site, manager, manager_volunteer, day
):
    suspend(site, manager)

    with pytest.raises(DomainError) as refusal:
        services.vacation_request(vacation=day, volunteer=manager_volunteer)
    assert refusal.value.code == "not_bookable"

    api.force_authenticate(manager)
    response = api.post(f"/api/v1/vacations/{day.pk}/request/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_bookable"

    client.force_login(manager)
    page = client.post(reverse("vacation_request_page", args=[day.pk]))
    assert page.status_code == 302
    shown = [(m.level_tag, m.message) for m in get_messages(page.wsgi_request)]
    assert [level for level, _text in shown] == ["error"]

    day.refresh_from_db()
    assert (day.status, day.volunteer) == ("open", None)


def test_an_active_site_still_takes_requests_and_bookings(api, site, secretary, day):
    volunteer = VolunteerFactory(territories=[site.territory])
    api.force_authenticate(volunteer.user)
    assert api.post(f"/api/v1/vacations/{day.pk}/request/").json()["status"] == "requested"
    api.force_authenticate(secretary)
    booked = api.post(
        f"/api/v1/vacations/{day.pk}/book/", {"volunteer": volunteer.pk}, format="json"
    )
    assert booked.json()["status"] == "booked"
