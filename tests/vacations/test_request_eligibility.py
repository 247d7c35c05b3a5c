"""A volunteer who may not take a day yet is told what is missing before pressing a button."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.browser.journey import fr
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations.models import PARIS

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def day(db):
    return open_day(make_public_site(), date(2027, 3, 9))


def gaps_of(response) -> list[str]:
    return re.findall(r'data-gap="([a-z_]+)"', response.content.decode())


def request_forms(response) -> list[str]:
    return re.findall(r'action="/jours/(\d+)/demander/"', response.content.decode())


def test_a_doctor_awaiting_verification_is_told_what_is_missing_before_requesting(client, day):
    doctor = VolunteerFactory(status="pending", committed=False)
    client.force_login(doctor.user)

    search = client.get(reverse("open_days"))
    detail = client.get(reverse("vacation_detail", args=[day.pk]))

    for page in (search, detail):
        html = page.content.decode()
        assert fr("You cannot request a day yet") in html
        assert gaps_of(page) == ["verification", "charter"]
        assert reverse("volunteer_commitment") in html  # how to get the missing signature
        assert request_forms(page) == []  # no button that would only fail
        assert 'disabled aria-describedby="request-gaps"' in html
    # Pressed anyway (an old tab): the refusal speaks to the doctor, not about "this volunteer".
    client.post(reverse("vacation_request_page", args=[day.pk]))
    errors = [str(m) for m in client.get(reverse("open_days")).context["messages"]]
    missing = [
        fr("your profile must be verified by a coordinator"),
        fr("you must sign the follow-up charter"),
    ]
    assert errors == [
        fr("You cannot request a day yet: %(missing)s.") % {"missing": "; ".join(missing)}
    ]
    day.refresh_from_db()
    assert day.status == "open"


def test_a_verified_doctor_without_a_current_charter_is_asked_to_renew_it(client, day):
    doctor = VolunteerFactory()
    doctor.commitments.update(valid_until=date(2027, 2, 1))
    client.force_login(doctor.user)

    page = client.get(reverse("open_days"))

    assert gaps_of(page) == ["charter_expired"]


def test_a_suspended_doctor_is_told_so(client, day):
    client.force_login(VolunteerFactory(status="suspended").user)

    assert gaps_of(client.get(reverse("open_days"))) == ["suspended"]


def test_an_eligible_doctor_sees_no_warning_and_working_buttons(client, day):
    client.force_login(VolunteerFactory().user)

    search = client.get(reverse("open_days"))
    detail = client.get(reverse("vacation_detail", args=[day.pk]))

    for page in (search, detail):
        assert gaps_of(page) == []
        assert request_forms(page) == [str(day.pk)]


def test_the_open_days_ask_the_eligibility_once_whatever_the_page_size(client, db):
    site = make_public_site()
    client.force_login(VolunteerFactory(status="pending").user)
    counts = []
    for first, last in ((1, 3), (3, 16)):  # 2 days, then 15
        for number in range(first, last):
            open_day(site, date(2027, 3, number + 1))
        with CaptureQueriesContext(connection) as queries:
            assert gaps_of(client.get(reverse("open_days"))) == ["verification"]
        counts.append(len(queries))
    assert counts[0] == counts[1]
