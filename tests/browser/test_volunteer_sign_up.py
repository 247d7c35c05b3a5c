"""A doctor gets from the landing page to a submitted profile and a signed commitment on a
phone, in three short pages (the field criticises the official registration's burden)."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from tests.factories import TerritoryFactory
from volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def tick(page, selector: str) -> None:
    """DSFR checkboxes are drawn by their label: click it, as a finger would."""
    box = page.locator(selector)
    page.locator(f"label[for='{box.get_attribute('id')}']").click()
    assert box.is_checked()


def test_a_doctor_signs_up_on_a_phone_in_three_short_pages(live_server, phone):
    territory = TerritoryFactory(name="Communauté de communes du Haut-Berry")
    started = time.monotonic()

    phone.goto(live_server.url)
    phone.get_by_role(
        "link", name="Je suis médecin et je souhaite m’engager comme volontaire"
    ).click()
    phone.locator("input[name=email]").fill("dr.nouveau@example.fr")
    phone.locator("input[name=password1]").fill("un-mot-de-passe-solide")
    phone.locator("input[name=password2]").fill("un-mot-de-passe-solide")
    phone.locator("form button[type=submit]").last.click()

    phone.locator("input[name=first_name]").fill("Jeanne")
    phone.locator("input[name=last_name]").fill("Roche")
    phone.locator("input[name=rpps]").fill("1000 3456 786")
    phone.locator("select[name=practice_status]").select_option("retired")
    phone.locator("select[name=home_department]").select_option("18")
    phone.locator("summary", has_text="Centre-Val de Loire").click()  # territories by region
    tick(phone, f"input[name=preferred_territories][value='{territory.pk}']")
    phone.get_by_role("button", name="M’inscrire comme volontaire").click()

    tick(phone, "input[name=accept]")
    phone.get_by_role("button", name="Je m’engage").click()
    phone.wait_for_load_state()

    volunteer = Volunteer.objects.get(user__email="dr.nouveau@example.fr")
    assert volunteer.rpps == "10003456786"
    assert volunteer.status == "pending"
    assert volunteer.current_commitment() is not None
    assert list(volunteer.preferred_territories.all()) == [territory]
    assert User.objects.get(email="dr.nouveau@example.fr").get_full_name() == "Jeanne Roche"
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert time.monotonic() - started < 60  # the robot's time; a doctor needs well under 3 min
