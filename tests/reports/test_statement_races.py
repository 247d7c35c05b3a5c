"""Races on a statement, on PostgreSQL: threads with their own connections click at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.roles import Role
from reports import services
from reports.models import Statement
from tests.conftest import member
from tests.factories import HostSiteFactory, VolunteerFactory, open_day
from tests.vacations.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Row locks are PostgreSQL's: CI's PostgreSQL pass runs these.
    pytest.mark.postgres,
]


def _month_with_a_closed_day():
    site = HostSiteFactory()
    open_day(site, date(2025, 1, 6), status="done", volunteer=VolunteerFactory(),
             indemnity=Decimal("200.00"), consultations_count=10)  # fmt: skip
    return site.territory, date(2025, 1, 1)


def test_ten_clicks_on_validate_at_once_validate_once():
    territory, month = _month_with_a_closed_day()
    manager = member(Role.TERRITORY_MANAGER, territory=territory)

    outcomes = race(
        [
            lambda: services.statement_validate(territory=territory, month=month, by=manager)
            for _ in range(10)
        ]
    )

    assert sorted(outcomes) == ["invalid_transition"] * 9 + ["ok"]
    statement = Statement.objects.get(territory=territory, month=month)
    assert statement.status == "validated"
    assert statement.history.count() == 1


def test_two_payments_of_one_statement_at_once_record_one():
    territory, month = _month_with_a_closed_day()
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    ars = member(Role.ARS_MANAGER, region_id=territory.department.region_id)
    statement = services.statement_validate(territory=territory, month=month, by=manager)

    outcomes = race(
        [
            lambda ref=ref: services.statement_pay(statement=statement, by=ars, reference=ref)
            for ref in ("VIR-A", "VIR-B")
        ]
    )

    assert sorted(outcomes) == ["invalid_transition", "ok"]
    statement.refresh_from_db()
    assert statement.status == "paid"
    assert statement.history.filter(status="paid").count() == 1
