"""The volunteer's journey (issue 12), on a 360 px phone and at 1366 px: from the planning, it
subscribes to its calendar (the webcal:// link, the https address copied to the clipboard),
generates a new link (the old address then answers 404), closes a day that took place (recorded
as done, handover written), opens last month's statement, sees the days done and their amounts,
and downloads the PDF. `Journey.check` on every page: a screenshot, no sideways scrolling, axe
finds nothing critical or serious."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.factories import VolunteerFactory, handed_over, make_public_site, open_day
from vacations import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(settings):
    """A volunteer with a day booked next week and a day done last month (its indemnity
    fixed), at a site with a long name (what would overflow a phone first)."""
    settings.RELEVE_ENFORCE_MFA = False
    today = timezone.localdate()
    volunteer = VolunteerFactory(user__first_name="Camille", user__last_name="Rousseau")
    site = make_public_site(
        name="Maison de santé pluriprofessionnelle de Saint-Amand-Montrond",
        address="12 boulevard du Maréchal-de-Lattre-de-Tassigny",
        postal_code="18200",
        city="Saint-Amand-Montrond",
    )
    secretary = member(Role.SECRETARY, site=site)
    booked = open_day(site, today + timedelta(days=7))
    services.vacation_book(vacation=booked, volunteer=volunteer, by=secretary)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=12)
    done = open_day(
        site, last_month, status="done", volunteer=volunteer, indemnity=Decimal("200.00"),
        consultations_count=17,
    )  # fmt: skip
    handed_over(done)
    # A day last month that took place but is not closed yet: the volunteer closes it.
    to_close = open_day(site, last_month + timedelta(days=8), status="booked", volunteer=volunteer)
    return {"volunteer": volunteer, "booked": booked, "done": done, "to_close": to_close}


def test_the_volunteer_subscribes_rotates_the_link_and_reads_last_months_statement(
    live_server, viewport, world
):
    page, volunteer = viewport, world["volunteer"]
    journey = Journey(page, "volunteer-statement")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in_as(page, live_server, volunteer.user)

    # The planning, its booked day, and the subscribe block beside it.
    page.goto(f"{live_server.url}/mon-planning/")
    page.locator(f'[data-vacation="{world["booked"].pk}"]').wait_for()
    journey.check("planning")
    old = f"/calendar/{volunteer.calendar_token}.ics"
    https = page.get_by_test_id("calendar-url").input_value()
    assert https == f"{live_server.url}{old}"
    webcal = page.get_by_test_id("calendar-webcal").get_attribute("href")
    assert webcal.startswith("webcal://")
    assert webcal == "webcal://" + https.split("://", 1)[1]

    # Copy: the clipboard holds the https address, and the page says so.
    page.get_by_test_id("calendar-copy").click()
    copied = fr("Address copied: paste it in your calendar application.")
    page.get_by_test_id("calendar-copy-status").filter(has_text=copied).wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == https

    # The instructions for Google open in place.
    page.get_by_role("button", name=fr("Google Agenda")).click()
    page.locator("#subscribe-google").get_by_text(fr("Copy the address above.")).wait_for()
    journey.check("subscribe-instructions")

    # A new link, once confirmed: the old address stops working.
    page.get_by_test_id("calendar-rotate").click()
    page.get_by_test_id("calendar-rotate-confirm").wait_for(state="visible")
    journey.check("rotate-confirmation")
    page.get_by_test_id("calendar-rotate-confirm").click()
    page.locator(".fr-alert--success").wait_for()
    journey.check("planning-new-link")
    volunteer.refresh_from_db()
    new = f"/calendar/{volunteer.calendar_token}.ics"
    assert page.get_by_test_id("calendar-url").input_value() == f"{live_server.url}{new}"
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200

    # The day that took place last month: its page offers to close it; the volunteer records it
    # writes the handover and records it as done (no exam prescribed), and the day is closed.
    to_close = world["to_close"]
    page.goto(f"{live_server.url}/jours/{to_close.pk}/")
    journey.check("day to close")
    page.get_by_test_id("close-day").click()
    page.get_by_label(fr("Handover for the team and the next volunteer")).fill(
        "Journée calme, aucun patient à suivre."
    )
    page.get_by_role("button", name=fr("Save the handover")).click()
    page.wait_for_load_state()
    journey.check("closure: handover written")
    page.get_by_label(fr("Consultations given")).fill("14")
    page.get_by_label(fr("No exam was prescribed this day")).check(force=True)
    page.get_by_role("button", name=fr("Record the day as done")).click()
    page.wait_for_load_state()
    journey.check("closure: day recorded")
    page.goto(f"{live_server.url}/jours/{to_close.pk}/")
    page.get_by_test_id("day-closed").wait_for()
    journey.check("day closed")
    to_close.refresh_from_db()
    assert to_close.status == "done"
    # Last month's statement (the page's default month): the days done and their amounts.
    page.goto(f"{live_server.url}/mon-planning/")
    page.get_by_test_id("statement-link").click()
    page.get_by_test_id("statement-days").wait_for()
    journey.check("statement")
    row = page.locator(f'[data-day="{world["done"].pk}"]')
    assert "Saint-Amand-Montrond" in row.inner_text()
    assert "200,00 €" in row.inner_text()
    assert page.locator(f'[data-day="{to_close.pk}"]').count() == 1
    assert "400,00" in page.get_by_test_id("total").inner_text()
    assert page.locator('[data-testid="standing"] li[data-status="draft"]').count() == 1

    # The PDF, downloaded.
    with page.expect_download() as download:
        page.get_by_test_id("statement-pdf").click()
    month = world["done"].date.strftime("%Y-%m")
    assert download.value.suggested_filename == f"releve-indemnites-{month}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
