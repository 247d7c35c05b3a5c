"""The secretary's journey in Debian's Chromium, on a 360 px phone and at 1366 px (issue 12).

From the home page, one click on "Planning" in the menu; a click on an empty day of the month
opens the open-days form with that date; the day opened shows in the calendar; a volunteer's
request on another day is confirmed; the site's history names people and says what changed.
Every page: screenshot, no sideways scrolling, axe finds nothing critical or serious.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from sites import services as sites_services
from sites.models import HostSite
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.factories import HostSiteFactory, VolunteerFactory, make_sheet, open_day
from vacations import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(settings):
    """A bookable site whose sheet the secretary submitted and the manager validated, and a
    volunteer's request waiting for an answer in ten days."""
    settings.RELEVE_ENFORCE_MFA = False
    site = HostSiteFactory(
        name="Maison de santé de Culan", status=HostSite.Status.ACTIVE, rooms=1, phone=""
    )
    sheet = make_sheet(site, status="draft", ready=True)
    secretary = member(
        Role.SECRETARY, site=site, user__first_name="Marie", user__last_name="Dupont"
    )
    manager = member(
        Role.TERRITORY_MANAGER,
        territory=site.territory,
        user__first_name="Paul",
        user__last_name="Martin",
    )
    sites_services.sheet_submit(sheet=sheet, by=secretary)
    sites_services.sheet_publish(sheet=sheet, by=manager)
    sites_services.site_update(site=site, by=secretary, phone="02 48 56 00 00")
    volunteer = VolunteerFactory(user__first_name="Jeanne", user__last_name="Roux")
    requested = open_day(site, timezone.localdate() + timedelta(days=10))
    services.vacation_request(vacation=requested, volunteer=volunteer)
    return site, secretary, requested


def open_menu_if_folded(page) -> None:
    """On a phone the header's navigation sits behind the "Menu" button."""
    button = page.locator("#header-menu-button")
    if button.is_visible():
        button.click()
        page.locator("#main-navigation").wait_for(state="visible")


def test_the_secretary_opens_a_day_from_the_calendar_confirms_a_request_and_reads_the_history(
    live_server, viewport, world
):
    site, secretary, requested = world
    page = viewport
    journey = Journey(page, "secretary")
    sign_in_as(page, live_server, secretary)

    page.goto(f"{live_server.url}/")
    journey.check("home")

    # The planning: one click in the menu.
    open_menu_if_folded(page)
    page.locator("#main-navigation").get_by_role("link", name=fr("Planning"), exact=True).click()
    page.get_by_test_id("month-calendar").wait_for()
    assert page.url.split("?")[0].endswith(f"/sites/{site.pk}/planning/")
    journey.check("planning")

    # An empty day of the month: its cell is a link to the form, that date filled in.
    empty = page.locator("a.releve-cal__open").first
    if not empty.count():  # the last day of a month: the next month's days
        page.get_by_test_id("next-month").click()
        empty = page.locator("a.releve-cal__open").first
    day = empty.get_attribute("data-testid").removeprefix("open-")
    assert empty.get_attribute("aria-label").startswith(fr("Open on %(day)s").split("%")[0])
    empty.click()
    page.get_by_test_id("chosen-day").wait_for()
    day_fr = "/".join(reversed(day.split("-")))
    assert page.locator("#id_extra_dates, [name=extra_dates]").first.input_value() == day_fr
    journey.check("open-the-chosen-day")

    page.get_by_role("button", name=fr("Open these days")).click()
    opened = page.locator(f'td[data-date="{day}"] li[data-status="open"]')
    opened.wait_for(state="attached")
    page.locator(".fr-alert--success").first.wait_for()
    journey.check("day-opened")

    # The volunteer's request, another day: confirmed from the planning.
    page.get_by_test_id(f"confirm-{requested.pk}").click()
    page.locator(".fr-alert--success").first.wait_for()
    requested.refresh_from_db()
    assert requested.status == "booked"
    journey.check("request-confirmed")

    # The site's history, from the site page: people by name, changes in words.
    breadcrumb = page.locator(".fr-breadcrumb__button")
    if breadcrumb.is_visible():
        breadcrumb.click()
    page.locator(".fr-breadcrumb").get_by_role("link", name=site.name).click()
    journey.check("site")
    page.get_by_role("link", name=fr("History of changes")).click()
    page.locator("table.releve-history").wait_for()
    history = page.locator("table.releve-history").inner_text()
    journey.check("history")
    assert "pk=None" not in history
    assert "Deleted" not in history
    assert "Marie Dupont (" in history
    assert "Paul Martin (" in history
    assert "02 48 56 00 00" in history
