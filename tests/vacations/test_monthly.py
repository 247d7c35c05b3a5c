from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.models import Notification
from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations.models import PARIS
from vacations.monthly import send_monthly_statements

FIRST_OF_APRIL = datetime(2027, 4, 1, 8, 0, tzinfo=PARIS)


@pytest.fixture
def march(db):
    site = make_public_site()
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    worked = VolunteerFactory()
    done = {"status": "done", "volunteer": worked}
    open_day(site, date(2027, 3, 2), indemnity=Decimal("200.00"), **done)
    open_day(site, date(2027, 3, 9), "am", indemnity=Decimal("100.00"), **done)
    open_day(site, date(2027, 3, 23), "pm", indemnity=Decimal("100.00"), **done)
    open_day(site, date(2027, 4, 6), status="booked", volunteer=VolunteerFactory())
    return worked, manager


def test_on_the_first_each_volunteer_and_manager_gets_the_month_once(
    march, django_capture_on_commit_callbacks
):
    worked, manager = march

    with (
        time_machine.travel(FIRST_OF_APRIL, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = send_monthly_statements()
        second = send_monthly_statements()

    assert (first, second) == (2, 0)
    by_kind = {n.kind: n for n in Notification.objects.select_related("recipient")}
    assert by_kind["monthly_statement"].recipient == worked.user
    assert by_kind["monthly_indemnities"].recipient == manager
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "400,00 €" in bodies[worked.user.email]
    assert "?month=2027-03" in bodies[worked.user.email]
    assert "400,00 €" in bodies[manager.email]
    # A day and two half-days: two days, as the indemnities report counts them (not three).
    assert " 2 " in bodies[manager.email]
    assert " 3 " not in bodies[manager.email]
