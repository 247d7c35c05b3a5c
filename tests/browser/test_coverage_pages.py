"""An ARS manager reads the overview's map, drills down to a red priority territory, opens the
days behind a figure, in Debian's Chromium: the charts draw under the strict CSP and axe finds
nothing serious on the coverage pages (screenshots kept under test-results/)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from tests.browser.axe import assert_no_serious_violations
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "coverage"


@pytest.fixture
def region():
    today = timezone.localdate()
    covered = TerritoryFactory(name="CC du Pays de Bourges", department_id="18", population=9000)
    site = HostSiteFactory(territory=covered, name="MSP de Saint-Amand", days_wanted_per_month=8)
    open_day(site, today + timedelta(days=3), status="booked", volunteer=VolunteerFactory())
    open_day(site, today + timedelta(days=5))
    red = TerritoryFactory(name="CC Berry Grand Sud", department_id="18", population=4000)
    HostSiteFactory(territory=red, name="Centre de santé de Lignières", days_wanted_per_month=4)
    TerritoryFactory(name="CC Cœur de Loire", department_id="45")  # no site at all
    return red


def _sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def test_an_ars_manager_goes_from_the_map_to_the_days_of_a_red_territory(live_server, page, region):
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, member(Role.ARS_MANAGER, region_id="24"))

    page.goto(f"{live_server.url}/pilotage/")
    page.locator("map-chart-reg svg").first.wait_for()
    page.wait_for_timeout(1000)
    assert page.locator('[data-tile="red_territories"] .releve-tile__value').inner_text() == "2"
    page.screenshot(path=SHOTS / "overview.png", full_page=True)
    assert_no_serious_violations(page)

    page.locator('[data-tile="red_territories"] a').click()
    red_list = page.locator('[data-testid="red-no-booked-day"]')
    red_list.wait_for()
    assert "CC Berry Grand Sud" in red_list.inner_text()
    page.locator("line-chart canvas, line-chart svg").first.wait_for()
    page.wait_for_timeout(1500)  # the charts' drawing animation, for the screenshot
    page.screenshot(path=SHOTS / "coverage-region.png", full_page=True)
    assert_no_serious_violations(page)

    red_list.get_by_role("link", name="CC Berry Grand Sud").click()
    page.locator('[data-testid="report-coverage"]').wait_for()
    assert "Centre de santé de Lignières" in page.locator("table").first.inner_text()
    assert_no_serious_violations(page)

    page.goto(f"{live_server.url}/pilotage/couverture/?department=18")
    row = page.locator("tr", has_text="CC du Pays de Bourges")
    row.locator('td[data-key="days_booked"] a').click()
    days = page.locator('[data-testid="coverage-days"]')
    days.wait_for()
    assert "MSP de Saint-Amand" in days.inner_text()
    page.screenshot(path=SHOTS / "coverage-days.png", full_page=True)
    assert_no_serious_violations(page)
    assert not [e for e in errors if "Content Security Policy" in e], errors
