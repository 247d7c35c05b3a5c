"""Issue 12, Proof: a visitor, signed in as nobody, finds a host site and downloads its sheet,
on a 360 px phone and at 1366 px. From the home page to the public catalogue, narrowed to a
department; the site's card opens its public sheet (how to reach it first); the sheet's PDF
downloads, and is the site's. `Journey.check` on every page (screenshot, no sideways scroll,
axe finds nothing serious)."""

from __future__ import annotations

import subprocess

import pytest

from tests.browser.journey import Journey, fr
from tests.factories import HostSiteFactory, TerritoryFactory, make_sheet

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SITE = "Centre de santé de La Châtre"


@pytest.fixture
def catalogue(db):
    """Public sites in Cher (18) and one in Indre (36), the one the visitor looks for."""
    cher = TerritoryFactory(name="CC Berry Grand Sud", department_id="18")
    indre = TerritoryFactory(name="CC de La Châtre et Sainte-Sévère", department_id="36")
    for name, territory in (
        ("Maison de santé de Lignières", cher),
        ("Maison de santé de Châteaumeillant", cher),
        (SITE, indre),
    ):
        site = HostSiteFactory(
            name=name, territory=territory, address="2 rue du Docteur-Vergne",
            postal_code="36400", city="La Châtre", phone="02 54 48 00 00",
            email="accueil@cds-lachatre.fr",
        )  # fmt: skip
        make_sheet(site, status="published", ready=True, accommodation="Studio meublé")
    return site


def pdf_text(path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def test_a_visitor_finds_a_site_and_downloads_its_sheet(live_server, viewport, catalogue):
    journey = Journey(viewport, "visitor")
    viewport.goto(live_server.url)
    journey.check("home")

    viewport.get_by_role("link", name=fr("See the host sites looking for doctors")).click()
    viewport.wait_for_url("**/lieux/")
    journey.check("catalogue")
    assert viewport.locator("[data-site]").count() == 3

    viewport.get_by_label(fr("Department")).select_option("36")
    viewport.locator("#catalogue-filters button[type=submit]").click()
    viewport.wait_for_url("**/lieux/?*department=36*")
    journey.check("catalogue in Indre")
    cards = viewport.locator("[data-site]")
    assert cards.count() == 1

    cards.get_by_role("link", name=SITE).click()
    viewport.wait_for_url(f"**/lieux/{catalogue.pk}/")
    journey.check("sheet")
    assert viewport.get_by_role("heading", level=1).inner_text() == SITE
    contact = viewport.get_by_test_id("site-contact")
    assert contact.get_by_test_id("site-phone").is_visible()
    assert contact.get_by_test_id("site-email").is_visible()

    with viewport.expect_download() as download_info:
        viewport.get_by_role("link", name=fr("Download the sheet")).click()
    download = download_info.value
    path = download.path()
    assert download.suggested_filename.endswith(".pdf")
    assert path.read_bytes().startswith(b"%PDF")
    assert SITE in pdf_text(path)
