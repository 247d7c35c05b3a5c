from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sites.models import Commune, HostSite, Territory
from tests.browser.test_sheet_journey import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_territory_of_the_commune_is_preselected_while_the_manager_types(
    live_server, page, demo_world
):
    berry = Territory.objects.get(epci_siren="200049484")
    valencay = Territory.objects.get(epci_siren="200040558")
    Commune.objects.create(
        insee_code="18057", name="Châteaumeillant", department_id="18", postal_codes="18370",
        territory=berry,
    )  # fmt: skip
    Commune.objects.create(
        insee_code="36228", name="Valençay", department_id="36", postal_codes="36600",
        territory=valencay,
    )  # fmt: skip
    sign_in(page, live_server.url, "cpts@demo.releve.fr")
    page.goto(f"{live_server.url}/sites/nouveau/")
    territory = page.locator("#id_territory")

    page.locator("#id_name").fill("Cabinet éphémère de Châteaumeillant")
    page.locator("#id_postal_code").fill("18370")
    page.locator("#id_city").fill("Châteaumeillant")
    page.locator("#id_city").press("Tab")
    expect(territory).to_have_value(str(berry.pk))
    page.locator("#site-territory [role=status]").get_by_text(berry.name).wait_for()

    # A proposal is not a choice: another commune proposes its own territory.
    page.locator("#id_postal_code").fill("36600")
    page.locator("#id_city").fill("Valençay")
    page.locator("#id_city").press("Tab")
    expect(territory).to_have_value(str(valencay.pk))

    # What the manager chose stays chosen.
    territory.select_option(str(berry.pk))
    page.locator("#id_city").fill("Valencay")
    page.locator("#id_city").press("Tab")
    page.wait_for_load_state("networkidle")
    assert territory.input_value() == str(berry.pk)

    page.get_by_role("button", name="Créer le lieu").click()
    page.get_by_role("heading", name="Cabinet éphémère de Châteaumeillant").wait_for()
    assert HostSite.objects.get(name="Cabinet éphémère de Châteaumeillant").territory == berry
