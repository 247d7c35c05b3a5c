"""Hole 9 (links): a site's calendar address is reset on demand by its team (page and API),
and by itself whenever someone leaves the team."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from sites import services
from sites.models import HostSite, Membership
from tests.conftest import member
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings):
    settings.RELEVE_ENFORCE_MFA = False


def feed(site_or_token) -> str:
    token = getattr(site_or_token, "calendar_token", site_or_token)
    return reverse("site_calendar", kwargs={"token": token})


def test_hole9_the_team_resets_the_site_calendar_address_from_the_planning_page(client, site):
    secretary = member(Role.SECRETARY, site=site)
    old = site.calendar_token
    client.force_login(secretary)
    page = client.get(reverse("site_planning", args=[site.pk])).content.decode()
    assert f'action="{reverse("site_calendar_rotate", args=[site.pk])}"' in page
    assert client.get(reverse("site_calendar_rotate", args=[site.pk])).status_code == 405

    response = client.post(reverse("site_calendar_rotate", args=[site.pk]))

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.calendar_token != old
    assert client.get(feed(old)).status_code == 404
    assert client.get(feed(site)).status_code == 200
    # The history keeps who reset it (not the secret).
    assert site.history.latest().history_user == secretary
    shown = client.get(reverse("site_planning", args=[site.pk])).context["calendar_url"]
    assert shown.endswith(feed(site))


def test_hole9_the_team_resets_it_through_the_api_and_no_one_else_may(
    api, site, outsider_site, territory_manager, volunteer
):
    nurse = member(Role.COURSE_NURSE, site=site)
    old = site.calendar_token
    url = f"/api/v1/sites/{site.pk}/calendar/"
    api.force_authenticate(nurse)
    assert api.get(url).json()["url"].endswith(feed(old))
    rotated = api.post(f"{url}rotate/")
    assert rotated.status_code == 200
    site.refresh_from_db()
    assert rotated.json()["url"].endswith(feed(site))
    assert site.calendar_token != old
    assert api.get(f"/api/v1/sites/{outsider_site.pk}/calendar/").status_code == 404

    token = site.calendar_token
    api.force_authenticate(territory_manager)  # sees the site, is not in its team
    assert api.get(url).status_code == 403
    assert api.post(f"{url}rotate/").status_code == 403
    api.force_authenticate(volunteer)
    assert api.post(f"{url}rotate/").status_code == 404
    api.force_authenticate(None)
    assert api.get(url).status_code == 401
    assert api.post(f"{url}rotate/").status_code == 401
    site.refresh_from_db()
    assert site.calendar_token == token


def test_hole9_a_manager_may_not_reset_it_from_the_page(client, site, territory_manager):
    client.force_login(territory_manager)
    old = site.calendar_token
    assert client.post(reverse("site_calendar_rotate", args=[site.pk])).status_code == 403
    assert HostSite.objects.get(pk=site.pk).calendar_token == old


def test_hole9_someone_leaving_the_team_resets_the_address(site, outsider_site):
    leaving = Membership.objects.get(user=member(Role.SECRETARY, site=site))
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    old, elsewhere = site.calendar_token, outsider_site.calendar_token

    services.membership_end(membership=Membership.objects.get(user=manager), by=UserFactory())
    assert HostSite.objects.get(pk=site.pk).calendar_token == old  # not a team member

    services.membership_end(membership=leaving, by=UserFactory())

    assert not Membership.objects.filter(pk=leaving.pk).exists()
    assert HostSite.objects.get(pk=site.pk).calendar_token != old
    assert HostSite.objects.get(pk=outsider_site.pk).calendar_token == elsewhere


def test_hole9_removing_a_team_member_in_the_admin_resets_the_address(admin_client, site):
    leaving = Membership.objects.get(user=member(Role.COURSE_NURSE, site=site))
    old = site.calendar_token

    response = admin_client.post(
        reverse("admin:sites_membership_delete", args=[leaving.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=leaving.pk).exists()
    assert HostSite.objects.get(pk=site.pk).calendar_token != old

    # The same through the list's bulk deletion.
    second = Membership.objects.get(user=member(Role.SECRETARY, site=site))
    token = HostSite.objects.get(pk=site.pk).calendar_token
    admin_client.post(
        reverse("admin:sites_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )
    assert not Membership.objects.filter(pk=second.pk).exists()
    assert HostSite.objects.get(pk=site.pk).calendar_token != token
