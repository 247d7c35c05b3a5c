"""The indemnities page in Chromium: a territory manager validates last month's statement;
axe finds no serious or critical violation on the page and on the days behind a figure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from accounts.roles import Role
from reports.models import Statement
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"  # UserFactory's


def serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture
def last_month(db):
    territory = TerritoryFactory(name="CC Berry Grand Sud")
    site = HostSiteFactory(territory=territory, name="Maison de santé de Châteaumeillant")
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    EmailAddress.objects.create(user=manager, email=manager.email, verified=True, primary=True)
    volunteer = VolunteerFactory(user__first_name="Hélène", user__last_name="Lefèvre")
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    for day, period, amount in ((3, "day", "200.00"), (10, "am", "100.00")):
        open_day(site, first.replace(day=day), period, status="done", volunteer=volunteer,
                 indemnity=Decimal(amount), consultations_count=10)  # fmt: skip
    return territory, manager


def test_a_territory_manager_validates_last_months_statement(live_server, page, last_month):
    territory, manager = last_month
    page.goto(f"{live_server.url}/accounts/login/?next=/pilotage/indemnites/")
    page.locator('input[name="login"]').fill(manager.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("statements").wait_for()

    assert serious(page) == []
    page.get_by_test_id("validate").click()
    page.locator(".fr-alert--success").wait_for()
    row = page.locator(f'tr[data-territory="{territory.pk}"]')
    assert row.get_attribute("data-status") == "validated"
    assert "1,5" in row.inner_text()
    assert Statement.objects.get(territory=territory).validated_by == manager

    page.locator(f'tr[data-territory="{territory.pk}"] td[data-key="amount"] a').click()
    page.get_by_test_id("days").wait_for()
    assert "Hélène Lefèvre" in page.get_by_test_id("days").inner_text()
    assert serious(page) == []
