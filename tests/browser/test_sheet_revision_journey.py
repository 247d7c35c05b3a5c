"""Issue 12 journey, at 360 px and 1366 px: a secretary edits the published sheet and resubmits
it (the public page still shows the validated value), the territory manager opens the changes,
sees what changed, validates them, and the public page shows the new value."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.roles import Role
from sites.models import HostSite, InfoSheet
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, make_sheet

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OLD = "Gare de Saint-Amand à 25 min"
NEW = "Navette depuis la gare, sur réservation"


@pytest.fixture
def world(settings):
    settings.RELEVE_ENFORCE_MFA = False
    territory = TerritoryFactory(name="CC Berry Grand Sud", department_id="18")
    site = HostSiteFactory(
        territory=territory, status=HostSite.Status.ACTIVE, name="MSP de Châteaumeillant"
    )
    make_sheet(site, status="published", ready=True, transport=OLD)
    return {
        "site": site,
        "secretary": member(Role.SECRETARY, site=site),
        "manager": member(Role.TERRITORY_MANAGER, territory=territory),
    }


def test_the_secretary_resubmits_a_published_sheet_and_the_manager_validates_the_changes(
    live_server, viewport, world
):
    page = viewport
    journey = Journey(page, "sheet-revision")
    site = world["site"]
    site_page = f"{live_server.url}{reverse('site_detail', args=[site.pk])}"
    public_page = f"{live_server.url}{reverse('public_site', args=[site.pk])}"

    # The secretary edits the published sheet: the public keeps the validated version.
    sign_in_as(page, live_server, world["secretary"])
    page.goto(site_page)
    journey.check("secretary-site-page")
    section = page.locator("#section-practical")
    section.get_by_role("link", name=fr("Edit")).click()
    section.locator("#id_practical-transport").fill(NEW)
    section.get_by_role("button", name=fr("Save")).click()
    section.get_by_text(NEW).wait_for()
    page.get_by_test_id("revision-notice").wait_for()
    journey.check("secretary-changes-in-draft")

    page.get_by_role("button", name=fr("Submit the changes for validation")).click()
    page.wait_for_url(re.compile(rf"/sites/{site.pk}/"))
    page.get_by_test_id("revision-notice").wait_for()
    journey.check("secretary-changes-submitted")
    assert InfoSheet.objects.get(site=site).revision_status == "submitted"

    page.goto(public_page)
    journey.check("public-page-still-validated")
    assert page.get_by_text(OLD).count() == 1
    assert page.get_by_text(NEW).count() == 0

    # The territory manager opens the changes, sees what changed, validates them.
    sign_in_as(page, live_server, world["manager"])
    page.goto(site_page)
    journey.check("manager-site-page")
    page.get_by_role("link", name=fr("Review the changes")).click()
    page.wait_for_url(re.compile(r"/modifications/"))
    changes = page.get_by_test_id("revision-changes")
    changes.get_by_text(OLD).wait_for()
    changes.get_by_text(NEW).wait_for()
    journey.check("manager-sees-what-changed")

    page.get_by_role("button", name=fr("Validate the changes")).click()
    page.wait_for_url(re.compile(rf"/sites/{site.pk}/$"))
    journey.check("manager-validated")
    sheet = InfoSheet.objects.get(site=site)
    assert (sheet.status, sheet.revision_status) == ("published", "none")

    page.goto(public_page)
    page.get_by_text(NEW).wait_for()
    journey.check("public-page-switched")
    assert page.get_by_text(OLD).count() == 0
