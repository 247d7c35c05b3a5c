"""Each site declares the days a month it wants covered: its staff and its managers edit it on
the site's page and through the API; others may not (404 outside the scope, 403 for a reader)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from accounts.roles import Role
from tests.conftest import member
from tests.factories import make_sheet
from tests.sites.test_staff_pages import HTMX, identity_data, section_url


@pytest.fixture
def national_manager(db):
    return member(Role.NATIONAL_MANAGER)


@pytest.mark.parametrize("who", ["secretary", "territory_manager"])
def test_it_lets_the_site_staff_and_its_manager_edit_the_days_wanted(client, request, site, who):
    make_sheet(site)
    client.force_login(request.getfixturevalue(who))
    data = identity_data(site, days_wanted_per_month="4")
    if who == "territory_manager":
        data.update({"identity-name": site.name, "identity-status": site.status})
        data["identity-territory"] = site.territory_id

    form = client.get(reverse("site_section_edit", args=[site.pk, "identity"]), **HTMX)
    saved = client.post(section_url(site, "identity"), data, **HTMX)

    assert 'name="identity-days_wanted_per_month"' in form.content.decode()
    assert saved.status_code == 200
    assert saved.context["section"].saved
    site.refresh_from_db()
    assert site.days_wanted_per_month == 4
    page = client.get(reverse("site_detail", args=[site.pk]))
    rows = dict(next(s for s in page.context["sections"] if s.slug == "identity").rows)
    with translation.override("fr"):  # the page speaks French
        label = capfirst(gettext("days wanted per month"))
    assert rows[label] == "4"


def test_it_refuses_more_than_62_days_and_changes_nothing(client, secretary, site):
    make_sheet(site)
    client.force_login(secretary)

    response = client.post(
        section_url(site, "identity"), identity_data(site, days_wanted_per_month="63"), **HTMX
    )

    assert "days_wanted_per_month" in response.context["section"].form.errors
    site.refresh_from_db()
    assert site.days_wanted_per_month == 0


def test_it_keeps_the_days_wanted_from_a_volunteer_and_a_national_reader(
    client, volunteer, national_manager, site
):
    make_sheet(site)
    data = identity_data(site, days_wanted_per_month="9")

    client.force_login(volunteer)
    outside = client.post(section_url(site, "identity"), data, **HTMX)
    client.force_login(national_manager)
    reader = client.post(section_url(site, "identity"), data, **HTMX)

    assert outside.status_code == 404
    assert reader.status_code == 403
    site.refresh_from_db()
    assert site.days_wanted_per_month == 0


def test_the_api_reads_and_writes_the_days_wanted_for_staff_and_managers_only(
    api, secretary, territory_manager, volunteer, national_manager, site
):
    url = f"/api/v1/sites/{site.pk}/"
    api.force_authenticate(secretary)
    by_staff = api.patch(url, {"days_wanted_per_month": 3}, format="json")
    too_many = api.patch(url, {"days_wanted_per_month": 63}, format="json")
    api.force_authenticate(territory_manager)
    by_manager = api.patch(url, {"days_wanted_per_month": 5}, format="json")
    read = api.get(url)
    api.force_authenticate(volunteer)
    by_volunteer = api.patch(url, {"days_wanted_per_month": 7}, format="json")
    api.force_authenticate(national_manager)
    by_reader = api.patch(url, {"days_wanted_per_month": 8}, format="json")

    assert by_staff.status_code == 200
    assert by_staff.json()["days_wanted_per_month"] == 3
    assert too_many.status_code == 400
    assert "days_wanted_per_month" in too_many.json()
    assert by_manager.status_code == 200
    assert read.json()["days_wanted_per_month"] == 5
    assert by_volunteer.status_code == 404
    assert by_reader.status_code == 403
    site.refresh_from_db()
    assert site.days_wanted_per_month == 5
