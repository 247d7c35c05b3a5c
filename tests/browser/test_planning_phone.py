from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, handed_over, make_public_site, open_day
from vacations import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"  # VolunteerFactory's


@pytest.fixture
def planning(db):
    """A volunteer with a booked day, a pending request and a past day done, at sites with long
    names and addresses (what would overflow a phone's width first)."""
    today = timezone.localdate()
    volunteer = VolunteerFactory(
        user__first_name="Marie-Hélène", user__last_name="Delacroix-Vasseur"
    )
    EmailAddress.objects.create(
        user=volunteer.user, email=volunteer.user.email, verified=True, primary=True
    )
    site = make_public_site(
        name="Maison de santé pluriprofessionnelle universitaire de Saint-Amand-Montrond",
        address="12 boulevard du Maréchal-de-Lattre-de-Tassigny, bâtiment B, 2e étage",
        postal_code="18200",
        city="Saint-Amand-Montrond",
        rooms=3,
    )
    secretary = member(Role.SECRETARY, site=site)
    booked = open_day(site, today + timedelta(days=3))
    services.vacation_book(vacation=booked, volunteer=volunteer, by=secretary)
    services.preparation_update(vacation=booked, by=secretary, licence_ready=True)
    requested = open_day(site, today + timedelta(days=40), "am")
    services.vacation_request(vacation=requested, volunteer=volunteer)
    past = open_day(site, today + timedelta(days=1))
    services.vacation_book(vacation=past, volunteer=volunteer, by=secretary)
    handed_over(past)
    services.vacation_complete(
        vacation=past,
        by=secretary,
        consultations_count=19,
        no_exams=True,
        now=timezone.now() + timedelta(days=2),
    )
    return volunteer, booked, requested


def test_my_planning_fits_a_phone_and_a_request_is_withdrawn_from_it(live_server, phone, planning):
    volunteer, booked, requested = planning
    phone.goto(f"{live_server.url}/accounts/login/?next=/mon-planning/")
    phone.locator('input[name="login"]').fill(volunteer.user.email)
    phone.locator('input[name="password"]').fill(PASSWORD)
    phone.keyboard.press("Enter")

    phone.get_by_test_id("upcoming").wait_for()
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    card = phone.locator(f'[data-vacation="{booked.pk}"]')
    assert card.is_visible()
    assert card.bounding_box()["width"] <= 360
    assert "1/3" in card.get_by_test_id("preparation-status").inner_text()
    assert (
        phone.get_by_test_id("calendar-url")
        .input_value()
        .endswith(f"/calendar/{volunteer.calendar_token}.ics")
    )

    phone.get_by_test_id(f"withdraw-{requested.pk}").click()
    phone.locator(".fr-alert--success").wait_for()

    assert phone.locator(f'[data-testid="requested"] [data-vacation="{requested.pk}"]').count() == 0
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    requested.refresh_from_db()
    assert (requested.status, requested.volunteer) == ("open", None)
