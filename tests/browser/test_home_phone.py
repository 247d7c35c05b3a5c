"""The home page on a 360 px phone: one column, nothing wider than the screen, each item a
link that opens its page, and no serious accessibility violation (axe)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def volunteer_with_days(db):
    """A volunteer who is also a site's secretary (two sections), with a booked day, a request
    and a day to close, at a site with a long name and address."""
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
    )
    member(Role.SECRETARY, site=site, user=volunteer.user)
    booked = open_day(site, today + timedelta(days=3), status="booked", volunteer=volunteer)
    open_day(site, today + timedelta(days=9), status="requested", volunteer=volunteer)
    open_day(site, today - timedelta(days=2), status="booked", volunteer=volunteer)
    return volunteer, booked


def serious(results) -> list[str]:
    return [
        violation["id"]
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_the_home_page_fits_a_phone_and_opens_the_next_day(live_server, phone, volunteer_with_days):
    volunteer, booked = volunteer_with_days
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.locator('input[name="login"]').fill(volunteer.user.email)
    phone.locator('input[name="password"]').fill(PASSWORD)
    phone.keyboard.press("Enter")

    phone.get_by_test_id("home").wait_for()
    assert phone.locator("[data-role]").evaluate_all("nodes => nodes.map(n => n.dataset.role)") == [
        "volunteer",
        "secretary",
    ]
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    tile = phone.locator('[data-role="volunteer"] [data-tile="upcoming"]')
    assert tile.bounding_box()["width"] <= 360
    assert serious(Axe().run(phone)) == []

    phone.locator(f'[data-list="next_days"] [data-row="{booked.pk}"] a').click()

    phone.wait_for_url(f"**/jours/{booked.pk}/")
