"""The pilotage journey in Debian's Chromium (issue 11): an ARS manager signs in through the
login form, goes from the home page to the dashboards, reads the map of the priority zones,
drills down region → department → the red territory, opens the days behind a figure, and
downloads the coverage CSV. axe finds nothing serious or critical on any new page (every role's
home page, every dashboard), at desktop width and on a 360 px phone, where no dashboard scrolls
sideways. Screenshots go to var/screenshots/pilotage/ ($RELEVE_SCREENSHOTS/pilotage/ in CI,
which lists them after each pass)."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.roles import Role
from tests.browser.axe import assert_no_serious_violations
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    MembershipFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    handed_over,
    open_day,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# .ci/run gives each pass its own folder (RELEVE_SCREENSHOTS) and lists what it kept.
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("RELEVE_SCREENSHOTS") or ROOT / "var" / "screenshots") / "pilotage"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
RED = "CC Berry Grand Sud"
DASHBOARDS = (
    "/pilotage/",
    "/pilotage/couverture/",
    "/pilotage/couverture/jours/",
    "/pilotage/preparation/",
    "/pilotage/suivi/",
    "/pilotage/indemnites/",
    "/pilotage/indemnites/jours/",
)


@pytest.fixture
def world(settings):
    """Centre-Val de Loire (24): two priority territories in Cher (one of them red: nothing
    booked in the next 14 days), one in Indre; sites with coordinates, booked and open days."""
    settings.RELEVE_ENFORCE_MFA = False
    today = timezone.localdate()
    doctor = VolunteerFactory()
    bourges = TerritoryFactory(name="CC Cœur de Berry", department_id="18", population=9000)
    msp = HostSiteFactory(
        territory=bourges, name="MSP de Saint-Amand", days_wanted_per_month=8,
        latitude=Decimal("46.7222"), longitude=Decimal("2.5053"),
    )  # fmt: skip
    open_day(msp, today + timedelta(days=3), status="booked", volunteer=doctor)
    open_day(msp, today + timedelta(days=5))
    # A closed day last month (the indemnities pages' default month): their tables have a row.
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    handed_over(open_day(msp, last_month, status="done", volunteer=doctor))
    red = TerritoryFactory(name=RED, department_id="18", population=4000)
    lignieres = HostSiteFactory(
        territory=red, name="Centre de santé de Lignières", days_wanted_per_month=4,
        latitude=Decimal("46.7508"), longitude=Decimal("2.1744"),
    )  # fmt: skip
    for days in (2, 6, 9):  # open, none booked: red
        open_day(lignieres, today + timedelta(days=days))
    open_day(lignieres, today + timedelta(days=20), status="booked", volunteer=doctor)
    indre = TerritoryFactory(name="CC de la Marche Berrichonne", department_id="36")
    aigurande = HostSiteFactory(
        territory=indre, name="Maison de santé d'Aigurande", days_wanted_per_month=2,
        latitude=Decimal("46.4339"), longitude=Decimal("1.8300"),
    )  # fmt: skip
    open_day(aigurande, today + timedelta(days=7), status="booked", volunteer=doctor)
    manager = UserFactory(email="ars@example.fr", first_name="Agnès")
    MembershipFactory(user=manager, role=Role.ARS_MANAGER, region_id="24")
    return {
        "manager": manager,
        "red": red,
        "site": lignieres,
        "volunteer": doctor.user,
        "secretary": member(Role.SECRETARY, site=msp),
        "nurse": member(Role.COURSE_NURSE, site=msp),
    }


def fr(text: str) -> str:
    """What the French pages show for `text` (the strings still pending translation show in
    English until the lead compiles them: the test follows the catalogue)."""
    with translation.override("fr"):
        return gettext(text)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let the charts' drawing animation settle
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def _force_sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def test_an_ars_manager_signs_in_drills_down_to_a_red_territory_and_exports_its_csv(
    live_server, page, world
):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Signs in through the real form and lands on her home page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("ars@example.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("home").wait_for()
    assert page.locator('[data-role="pilot"]').is_visible()
    _shot(page, "01-home")

    # The menu leads to the dashboards; their tabs to the overview.
    page.locator("#main-navigation").get_by_role("link", name="Couverture").click()
    page.wait_for_url("**/pilotage/couverture/**")
    page.get_by_role("navigation", name=fr("Dashboards")).get_by_role(
        "link", name=fr("Overview"), exact=True
    ).click()
    page.wait_for_url(re.compile(r"/pilotage/(\?region=24)?$"))

    # The map of her region is drawn, with its data table beside it.
    page.locator("[data-testid=priority-map] map-chart-reg svg").first.wait_for()
    assert page.locator('[data-tile="red_territories"] .releve-tile__value').inner_text() == "1"
    map_table = page.get_by_test_id("map-table")
    assert map_table.locator("tr[data-code='18']").count() == 1
    assert map_table.locator("tr[data-code='36']").count() == 1
    _shot(page, "02-overview-map")
    page.locator("[data-testid=priority-map] .fr-accordion__btn[aria-controls$='-data']").click()
    map_table.wait_for(state="visible")

    # Down the drill-down: the map's table → Cher → the red territory (its red badge).
    map_table.locator("tr[data-code='18']").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/pilotage/couverture/\?(.*&)?department=18(&|$)"))
    assert "Cher" in page.get_by_test_id("breadcrumbs").inner_text()
    red_row = page.get_by_test_id("report-coverage").locator("tbody tr", has_text=RED)
    assert red_row.locator(".fr-badge--error").is_visible()
    assert "Cœur de Berry" in page.get_by_test_id("report-coverage").inner_text()
    _shot(page, "03-department")
    red_row.locator("th a").click()
    page.wait_for_url(re.compile(rf"/pilotage/couverture/\?(.*&)?territory={world['red'].pk}(&|$)"))
    crumbs = page.get_by_test_id("breadcrumbs").inner_text()
    for crumb in ("Centre-Val de Loire", "Cher", RED):
        assert crumb in crumbs
    _shot(page, "04-red-territory")

    # The list behind a figure: the site's open days; its total is the figure.
    site_row = page.get_by_test_id("report-coverage").locator(
        "tbody tr", has_text="Centre de santé de Lignières"
    )
    figure = site_row.locator('td[data-key="days_open"] a')
    shown = figure.inner_text().strip()
    assert shown == "3"
    figure.click()
    days = page.get_by_test_id("coverage-days")
    days.wait_for()
    assert page.get_by_test_id("days-total").get_attribute("data-total") in ("3", "3.0")
    assert days.locator("tbody tr[data-day]").count() == 3
    _shot(page, "05-days-behind-a-figure")

    # Back up to Cher by the breadcrumbs, then the CSV.
    page.get_by_role("link", name=fr("Back to the coverage")).click()
    page.get_by_test_id("report-coverage").wait_for()
    page.get_by_test_id("breadcrumbs").get_by_role("link", name="Cher").click()
    page.wait_for_url(re.compile(r"[?&]department=18(&|$)"))
    _shot(page, "06-coverage-before-export")
    with page.expect_download() as info:
        page.get_by_test_id("exports").get_by_role("link", name="CSV", exact=True).click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {fr("Territory"), fr("Days needed"), fr("Fill rate")} <= set(rows[0]), rows[0]
    assert fr("Territory") == "Territoire"  # French headings (the others once compiled)
    assert any(RED in row for row in rows[1:]), rows
    assert any("CC Cœur de Berry" in row for row in rows[1:]), rows  # accents kept
    assert not [e for e in errors if "Content Security Policy" in e], errors


# The home page's section of each role (reports/home): who signs in, what section shows.
HOMES = {"volunteer": "volunteer", "secretary": "secretary", "nurse": "course_nurse",
         "manager": "pilot"}  # fmt: skip


def _pages_of(world) -> list[tuple[str, object, str]]:
    """(name, user, path) of every new page: each role's home page, each dashboard."""
    homes = [(name, world[name], "/") for name in HOMES]
    boards = [(f"board{path.replace('/', '-')}", world["manager"], path) for path in DASHBOARDS]
    return homes + boards


def _open(page, live_server, name: str, path: str) -> None:
    """Open `path` and check it is the page asked for (not a sign-in or error page)."""
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200, (name, path, response.status)
    assert page.url == f"{live_server.url}{path}", (name, page.url)
    page.locator("main h1").first.wait_for()
    if path == "/":
        page.locator(f'[data-role="{HOMES[name]}"]').wait_for()


def test_axe_finds_nothing_serious_on_the_new_pages_at_desktop_width(live_server, page, world):
    for name, user, path in _pages_of(world):
        _force_sign_in(page, live_server, user)
        _open(page, live_server, name, path)
        if path.startswith("/pilotage/indemnites/"):
            assert "CC Cœur de Berry" in page.locator("main").inner_text(), path
        try:
            assert_no_serious_violations(page)
        except AssertionError as failure:
            raise AssertionError(f"{path} as {name}: {failure}") from None


def test_on_a_phone_the_dashboards_fit_360_px_and_axe_finds_nothing_serious(
    live_server, phone, world
):
    overflowing = []
    assert phone.evaluate("window.innerWidth") == 360
    for name, user, path in _pages_of(world):
        _force_sign_in(phone, live_server, user)
        _open(phone, live_server, name, path)
        phone.wait_for_timeout(200)
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            overflowing.append(f"{path} ({name}): {width}px")
        if path in ("/", "/pilotage/", "/pilotage/couverture/"):
            if path != "/":
                _shot(phone, f"phone{path.replace('/', '-')}".rstrip("-"))
            try:
                assert_no_serious_violations(phone)
            except AssertionError as failure:
                raise AssertionError(f"{path} as {name}: {failure}") from None
    assert overflowing == []
