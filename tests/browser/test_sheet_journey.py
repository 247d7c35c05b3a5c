from __future__ import annotations

import pytest

from sites.demo import DEMO_PASSWORD
from sites.models import HostSite, InfoSheet

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("current-user").wait_for()


def test_a_secretary_edits_a_section_in_place_and_sees_the_error_next_to_the_field(
    live_server, page, demo_world
):
    site = HostSite.objects.get(name="Maison de santé de Châteaumeillant")
    sign_in(page, live_server.url, "secretariat@demo.releve.fr")
    page.goto(f"{live_server.url}/sites/{site.pk}/")
    url_before = page.url

    section = page.locator("#section-practical")
    section.get_by_role("link", name="Modifier").click()
    accommodation = section.get_by_label("Hébergement")
    accommodation.fill("Gîte communal à 300 m, clés en mairie")
    section.get_by_role("button", name="Enregistrer").click()
    section.get_by_text("Gîte communal à 300 m, clés en mairie").wait_for()

    patients = page.locator("#section-patients")
    patients.get_by_role("link", name="Modifier").click()
    patients.get_by_label("Durée minimale de consultation (minutes)").fill("5")
    patients.get_by_role("button", name="Enregistrer").click()
    patients.locator(".fr-message--error").first.wait_for()

    # Swapped in place by htmx: the page never reloaded.
    assert page.url == url_before
    sheet = InfoSheet.objects.get(site=site)
    assert sheet.accommodation == "Gîte communal à 300 m, clés en mairie"
    assert sheet.consultation_minutes == 20
    assert sheet.revision_status == "draft"  # the public keeps the validated version
