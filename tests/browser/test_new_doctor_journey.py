"""A new doctor's first week (issue 12), at 360 px and 1366 px: signs up (email confirmed from the
message received), fills the volunteer profile, is told on the open days what is missing before
requesting one, signs the charter, is verified by the territory's manager, requests a day, and
subscribes to the calendar (webcal link, https address copied). Every page: screenshot, no
sideways scroll, axe (tests.browser.journey)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.factories import TerritoryFactory, make_public_site, open_day
from vacations.models import Vacation
from volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EMAIL = "dr.roche@example.fr"
PASSWORD = "un-mot-de-passe-solide"
RPPS = "10003456786"  # Luhn-valid (tests.factories._rpps)


@pytest.fixture
def world(settings):
    """A priority territory of Cher with its manager, and a public site with an open day."""
    settings.RELEVE_ENFORCE_MFA = False
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # as in production
    territory = TerritoryFactory(name="CC du Haut-Berry", department_id="18")
    site = make_public_site(territory=territory, name="MSP des Aix-d’Angillon")
    day = open_day(site, timezone.localdate() + timedelta(days=10))
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    return {"territory": territory, "site": site, "day": day, "manager": manager}


def label(text: str) -> re.Pattern:
    """A field's label as allauth's page shows it, whatever the suffix (" :", "*") the
    restyled form puts after it."""
    return re.compile(rf"^\s*{re.escape(fr(text))}[\s\u00a0:*]*$")


def tick(page, locator) -> None:
    """DSFR checkboxes are drawn by their label: click it, as a finger would."""
    page.locator(f"label[for='{locator.get_attribute('id')}']").click()
    assert locator.is_checked()


def test_a_new_doctor_signs_up_signs_the_charter_is_verified_and_requests_a_day(
    live_server, viewport, world
):
    page, journey = viewport, Journey(viewport, "new-doctor")
    day = world["day"]

    # Sign up (allauth's form, found by its labels), then confirm the address from the email.
    page.goto(f"{live_server.url}/accounts/signup/")
    journey.check("sign up")
    page.get_by_label(label("Email")).fill(EMAIL)
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_label(label("Password (again)")).fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    journey.check("check your email")
    (message,) = [m for m in mail.outbox if EMAIL in m.to]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)[0]
    page.goto(live_server.url + link[link.index("/accounts/") :])
    journey.check("confirm the address")
    page.locator("main form button[type=submit], form[action*=confirm-email] button").first.click()
    page.wait_for_load_state()

    # The volunteer profile.
    page.goto(f"{live_server.url}/volontaire/profil/")
    journey.check("volunteer profile")
    page.locator("input[name=first_name]").fill("Jeanne")
    page.locator("input[name=last_name]").fill("Roche")
    page.locator("input[name=rpps]").fill(RPPS)
    page.locator("select[name=practice_status]").select_option("retired")
    page.locator("select[name=home_department]").select_option("18")
    page.locator("summary", has_text="Centre-Val de Loire").click()
    territory = world["territory"]
    tick(page, page.locator(f"input[name=preferred_territories][value='{territory.pk}']"))
    page.get_by_role("button", name=fr("Register as a volunteer")).click()
    page.wait_for_load_state()
    doctor = Volunteer.objects.get(user__email=EMAIL)
    assert (doctor.rpps, doctor.status) == (RPPS, "pending")

    # The open days say what is missing, before any button is pressed.
    page.goto(f"{live_server.url}/jours-ouverts/")
    alert = page.get_by_test_id("request-gaps")
    assert fr("You cannot request a day yet") in alert.inner_text()
    assert [g.get_attribute("data-gap") for g in alert.locator("li").all()] == [
        "verification",
        "charter",
    ]
    assert page.get_by_test_id(f"request-{day.pk}").is_disabled()
    journey.check("open days: what is missing")

    # The charter, from the alert's link.
    alert.get_by_role("link", name=fr("Sign the charter")).click()
    journey.check("the charter")
    tick(page, page.locator("input[name=accept]"))
    page.get_by_role("button", name=fr("I commit")).click()
    page.wait_for_load_state()
    assert doctor.current_commitment() is not None
    page.goto(f"{live_server.url}/jours-ouverts/")
    gaps = page.get_by_test_id("request-gaps").locator("li")
    assert [g.get_attribute("data-gap") for g in gaps.all()] == ["verification"]
    journey.check("open days: verification still missing")

    # The territory's manager verifies the doctor.
    sign_in_as(page, live_server, world["manager"])
    page.goto(f"{live_server.url}/volontaires/")
    journey.check("manager: volunteers")
    page.get_by_role("link", name="Jeanne Roche").click()
    journey.check("manager: the doctor")
    page.locator("textarea[name=evidence]").fill("Inscription vérifiée au tableau du CDOM 18.")
    page.get_by_role("button", name=fr("Mark as verified")).click()
    page.wait_for_load_state()
    doctor.refresh_from_db()
    assert doctor.status == "verified"

    # The doctor requests the day: the button works now.
    sign_in_as(page, live_server, doctor.user)
    page.goto(f"{live_server.url}/jours-ouverts/")
    assert page.get_by_test_id("request-gaps").count() == 0
    journey.check("open days: ready")
    page.get_by_test_id(f"request-{day.pk}").click()
    page.wait_for_url(f"{live_server.url}/mon-planning/")
    journey.check("my planning: request sent")
    day.refresh_from_db()
    assert (day.status, day.volunteer_id) == (Vacation.Status.REQUESTED, doctor.pk)

    # Beside the planning, the doctor subscribes to the calendar: the webcal:// link, the https
    # address copied to the clipboard; the feed holds the requested day.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    doctor.refresh_from_db()
    https = page.get_by_test_id("calendar-url").input_value()
    assert https == f"{live_server.url}/calendar/{doctor.calendar_token}.ics"
    webcal = page.get_by_test_id("calendar-webcal").get_attribute("href")
    assert webcal == "webcal://" + https.split("://", 1)[1]
    page.get_by_test_id("calendar-copy").click()
    page.get_by_test_id("calendar-copy-status").filter(
        has_text=fr("Address copied: paste it in your calendar application.")
    ).wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == https
    journey.check("my planning: calendar subscribed")
    feed = Client().get(f"/calendar/{doctor.calendar_token}.ics")
    assert feed.status_code == 200
    assert f"UID:vacation-{day.pk}@releve".encode() in feed.content
