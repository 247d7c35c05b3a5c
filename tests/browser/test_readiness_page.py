"""The ARS manager reads its region's readiness, opens the list behind a figure, and the page
holds no serious or critical accessibility violation (axe)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from sites.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_ars_manager_opens_the_list_behind_a_figure_of_the_readiness_page(
    live_server, page, demo_world
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("ars@demo.releve.fr")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("current-user").wait_for()

    page.goto(f"{live_server.url}/pilotage/preparation/")
    page.get_by_test_id("report-readiness").wait_for()
    results = Axe().run(page)
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], results.generate_report()

    tile = page.get_by_test_id("tiles").locator('[data-key="sites_active"]')
    count = int(tile.locator(".fr-tile__detail").inner_text())
    tile.get_by_role("link").click()
    page.wait_for_url("**/sites/?region=24&status=active")
    listed = page.locator("table tbody tr")
    assert count > 0
    assert listed.count() == min(count, 25)
