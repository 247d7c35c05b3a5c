"""The site staff reach their planning from the menu, and open a day from the month (issue 12)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from accounts.navigation import navigation_for
from accounts.roles import Role
from tests.browser.journey import fr
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations.models import PARIS, Vacation

TODAY = date(2027, 3, 10)  # a Wednesday
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def site(db):
    return make_public_site(name="Maison de santé de Culan", rooms=1)


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


def menu(client, user) -> list[dict]:
    client.force_login(user)
    return client.get(reverse("home")).context["nav_items"]


def test_the_secretary_reaches_the_site_planning_from_the_menu_in_one_click(
    client, site, secretary
):
    planning = reverse("site_planning", args=[site.pk])

    items = menu(client, secretary)
    page = client.get(reverse("home")).content.decode()

    entry = next(item for item in items if item["label"] == "Planning")
    assert entry["url"] == planning
    assert f'<a class="fr-nav__link" href="{planning}"' in page
    # On the planning itself, the entry is the current page.
    on_planning = client.get(planning).content.decode()
    assert f'<a class="fr-nav__link" href="{planning}" aria-current="page">' in on_planning


def test_a_nurse_of_two_sites_picks_one_in_a_planning_dropdown(client, site):
    other = make_public_site(name="Centre de santé d’Aubigny")
    nurse = member(Role.COURSE_NURSE, site=site)
    member_of_other = member(Role.COURSE_NURSE, site=other)
    nurse.memberships.create(role=Role.COURSE_NURSE, site=other)

    entry = next(item for item in menu(client, nurse) if item["label"] == "Planning")
    page = client.get(reverse("home")).content.decode()

    assert entry["url"] is None
    assert [child["label"] for child in entry["children"]] == [other.name, site.name]
    assert 'class="fr-nav__btn"' in page
    for target in (site, other):
        assert f'href="{reverse("site_planning", args=[target.pk])}"' in page
    # One site: a direct link.
    single = next(i for i in menu(client, member_of_other) if i["label"] == "Planning")
    assert single["url"] == reverse("site_planning", args=[other.pk])


def test_the_roles_and_the_planning_entry_cost_one_query(django_assert_num_queries, secretary):
    """The staff's sites come with their roles: the menu adds no query to any page."""
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=secretary.pk)

    with django_assert_num_queries(1):
        assert Role.SECRETARY in request.user.role_codes()
        items = navigation_for(request)

    assert any(item["label"] == "Planning" for item in items)


def test_only_site_staff_have_a_planning_entry(client, site):
    volunteer = VolunteerFactory().user
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)

    for user in (volunteer, manager):
        assert all(item["label"] != "Planning" for item in menu(client, user))


def cell(html: str, day: date) -> str:
    """The month calendar's cell of `day`."""
    found = re.search(rf'<td[^>]*data-date="{day:%Y-%m-%d}"[^>]*>(.*?)</td>', html, re.S)
    assert found, day
    return found.group(0)


def test_a_click_on_an_empty_day_opens_that_day(client, site, secretary):
    open_day(site, date(2027, 3, 16))
    client.force_login(secretary)
    url = reverse("site_planning", args=[site.pk])

    month = client.get(url, {"mois": "2027-03"}).content.decode()

    empty = cell(month, date(2027, 3, 12))
    link = re.search(r'<a class="releve-cal__open[^"]*" href="([^"]+)" aria-label="([^"]+)"', empty)
    assert link, empty
    assert link.group(2) == fr("Open on %(day)s") % {"day": "12 " + fr("March")}
    assert "releve-cal__openable" in empty
    # A past day, a day already opened, a day of the next month shown in the grid: no link.
    assert "releve-cal__open" not in cell(month, date(2027, 3, 9))
    assert "releve-cal__open" not in cell(month, date(2027, 3, 16))
    assert "releve-cal__open" not in cell(month, date(2027, 4, 1))

    # The link: the open-days form with that date filled in.
    href = link.group(1).replace("&amp;", "&")
    chosen = client.get(url + href.split("#")[0])
    form = chosen.context["form"]
    assert form.initial["extra_dates"] == "12/03/2027"
    assert form.initial["month"] == "2027-03"
    assert 'data-testid="chosen-day"' in chosen.content.decode()
    assert href.endswith("#open-days")

    opened = client.post(
        url + href.split("#")[0],
        {"month": "2027-03", "extra_dates": "12/03/2027", "period": "day"},
    )

    assert opened.status_code == 302
    assert Vacation.objects.filter(site=site, date=date(2027, 3, 12)).exists()


def test_only_who_may_open_days_gets_the_empty_day_links(client, site):
    nurse = member(Role.COURSE_NURSE, site=site)
    client.force_login(nurse)
    url = reverse("site_planning", args=[site.pk])

    page = client.get(url, {"mois": "2027-03", "jour": "2027-03-12"})

    assert "releve-cal__open" not in page.content.decode()
    assert page.context["form"] is None


def test_a_past_or_far_day_in_the_address_fills_in_nothing(client, site, secretary):
    client.force_login(secretary)
    url = reverse("site_planning", args=[site.pk])

    for value in ("2027-03-09", "2031-01-01", "demain"):
        page = client.get(url, {"jour": value})
        assert page.status_code == 200
        assert "extra_dates" not in page.context["form"].initial
