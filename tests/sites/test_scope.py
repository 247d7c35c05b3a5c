from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from sites.models import Department, HostSite, Membership, Region, Territory
from tests.factories import HostSiteFactory, TerritoryFactory, UserFactory


def test_the_reference_data_holds_every_region_and_department(db):
    assert Region.objects.count() == 18
    assert Department.objects.count() == 101
    assert Department.objects.get(code="2A").region.name == "Corse"
    assert Department.objects.get(code="976").region_id == "06"
    assert Department.objects.filter(region_id="76").count() == 13


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.ARS_MANAGER, {}),
        (Role.ARS_MANAGER, {"territory": True}),
        (Role.TERRITORY_MANAGER, {"region": True}),
        (Role.TERRITORY_MANAGER, {"territory": True, "site": True}),
        (Role.SECRETARY, {"territory": True}),
        (Role.COURSE_NURSE, {}),
        (Role.VOLUNTEER, {"site": True}),
        ("director", {"region": True}),
    ],
)
def test_the_database_refuses_a_membership_whose_scope_does_not_fit_its_role(db, role, scope):
    site = HostSiteFactory()
    values = {
        "region_id": "24" if scope.get("region") else None,
        "territory": site.territory if scope.get("territory") else None,
        "site": site if scope.get("site") else None,
    }
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass every Python-side check: the constraint itself must refuse the row.
        Membership.objects.bulk_create([Membership(user=user, role=role, **values)])

    assert not Membership.objects.filter(user=user).exists()


def test_the_database_accepts_each_role_with_its_own_scope(db):
    site = HostSiteFactory()
    user = UserFactory()
    Membership.objects.bulk_create(
        [
            Membership(user=user, role=Role.ARS_MANAGER, region_id="24"),
            Membership(user=user, role=Role.TERRITORY_MANAGER, territory=site.territory),
            Membership(user=user, role=Role.SECRETARY, site=site),
            Membership(user=user, role=Role.COURSE_NURSE, site=site),
            Membership(user=user, role=Role.VOLUNTEER),
        ]
    )
    assert user.memberships.count() == 5


def test_a_secretary_sees_its_site_and_gets_404_on_another(api, secretary, site, outsider_site):
    api.force_authenticate(secretary)

    assert api.get(f"/api/v1/sites/{site.pk}/").status_code == 200
    response = api.get(f"/api/v1/sites/{outsider_site.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert [s["id"] for s in api.get("/api/v1/sites/").json()["results"]] == [site.pk]


def test_a_territory_manager_sees_the_sites_of_its_territories_only(
    api, territory_manager, site, outsider_site
):
    neighbour = HostSiteFactory(territory=site.territory)
    api.force_authenticate(territory_manager)

    ids = {s["id"] for s in api.get("/api/v1/sites/").json()["results"]}

    assert ids == {site.pk, neighbour.pk}
    assert api.get(f"/api/v1/sites/{outsider_site.pk}/").status_code == 404


def test_an_ars_manager_sees_its_region_and_not_another(api, ars_manager, site, outsider_site):
    api.force_authenticate(ars_manager)

    assert api.get(f"/api/v1/sites/{site.pk}/").status_code == 200
    assert api.get(f"/api/v1/sites/{outsider_site.pk}/").status_code == 404


def test_a_volunteer_sees_no_staff_site_list(api, volunteer, site):
    api.force_authenticate(volunteer)

    assert api.get(f"/api/v1/sites/{site.pk}/").status_code == 404


def test_the_site_page_lists_only_the_sites_in_scope(client, secretary, site, outsider_site):
    client.force_login(secretary)

    page = client.get(reverse("site_list")).content.decode()

    assert site.name in page
    assert outsider_site.name not in page


def test_the_territory_page_lists_what_the_manager_pilots(client, territory_manager, site):
    other = TerritoryFactory(department_id="12")
    client.force_login(territory_manager)

    page = client.get(reverse("territory_list")).content.decode()

    assert site.territory.name in page
    assert other.name not in page


def test_memberships_are_visible_to_their_user_and_to_managers_of_the_place(
    secretary, territory_manager, volunteer, site
):
    own = Membership.objects.visible_to(volunteer)
    managed = Membership.objects.visible_to(territory_manager)

    assert list(own.values_list("user", flat=True)) == [volunteer.pk]
    assert set(managed.values_list("user", flat=True)) == {secretary.pk, territory_manager.pk}


def test_territories_filter_on_region_and_priority(api, user):
    cher = TerritoryFactory(department_id="18")
    aveyron = TerritoryFactory(department_id="12", is_priority=False)
    api.force_authenticate(user)

    in_cvl = api.get("/api/v1/territories/", {"region": "24"}).json()["results"]
    not_priority = api.get("/api/v1/territories/", {"priority": "false"}).json()["results"]

    assert [t["id"] for t in in_cvl] == [cher.pk]
    assert in_cvl[0]["region"] == "24"
    assert in_cvl[0]["department"] == "18"
    assert [t["id"] for t in not_priority] == [aveyron.pk]


def test_regions_are_listed_with_their_insee_code(api, db):
    body = api.get("/api/v1/regions/", {"page_size": 200}).json()

    assert body["count"] == 18
    assert {"code": "76", "name": "Occitanie"} in body["results"]


def test_a_territory_refuses_a_siren_with_a_wrong_check_digit(db):
    territory = Territory(name="X", epci_siren="200044015", department_id="18")

    with pytest.raises(Exception, match="SIREN"):
        territory.full_clean()


@pytest.mark.parametrize("size", [3, 300])
def test_lists_cost_the_same_queries_whatever_their_size(
    client, api, django_assert_num_queries, territory_manager, site, size
):
    for _ in range(size):
        HostSiteFactory(territory=site.territory)
    client.force_login(territory_manager)
    api.force_authenticate(territory_manager)

    # session, user, memberships (shell), unread messages (the bell), count, page
    with django_assert_num_queries(6):
        assert client.get(reverse("site_list")).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(reverse("territory_list")).status_code == 200
    with django_assert_num_queries(2):
        assert api.get("/api/v1/sites/").status_code == 200
    assert HostSite.objects.visible_to(territory_manager).count() == size + 1
