"""History pages name people and say each change in words (issue 12, site staff).

simple_history's diff turns an empty foreign key into "Deleted utilisateur (pk=None)"; the
pages showed it as is on every validation (`published_by`: nobody → the manager).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.history_words import people_in_words, value_in_words
from accounts.models import User
from accounts.roles import Role
from sites import services
from sites.models import InfoSheet
from tests.browser.journey import fr
from tests.conftest import member
from tests.factories import make_sheet


def table_text(response) -> str:
    """The history table as a sighted reader reads it: tags and screen-reader hints dropped."""
    html = response.content.decode()
    table = html[html.index("<table") : html.index("</table>")]
    table = re.sub(r'<span class="fr-sr-only">[^<]*</span>', "", table)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))


def with_role(name: str, role: Role) -> str:
    label = fr(str(role.label))
    return f"{name} ({label[0].lower()}{label[1:]})"


@pytest.fixture
def people(site):
    secretary = member(
        Role.SECRETARY, site=site, user__first_name="Marie", user__last_name="Dupont"
    )
    manager = member(
        Role.TERRITORY_MANAGER,
        territory=site.territory,
        user__first_name="Paul",
        user__last_name="Martin",
    )
    return secretary, manager


def validated_then_edited(site, secretary, manager) -> InfoSheet:
    sheet = make_sheet(site, status="draft", ready=True)
    services.sheet_submit(sheet=sheet, by=secretary)
    services.sheet_publish(sheet=sheet, by=manager)
    services.site_update(site=site, by=secretary, phone="02 48 00 00 00")
    return sheet


def test_history_pages_show_people_by_name_and_changes_in_words(client, site, people):
    secretary, manager = people
    validated_then_edited(site, secretary, manager)
    client.force_login(manager)

    page = table_text(client.get(reverse("site_history", args=[site.pk])))

    assert "Deleted" not in page
    assert "pk=" not in page
    assert with_role("Marie Dupont", Role.SECRETARY) in page
    assert with_role("Paul Martin", Role.TERRITORY_MANAGER) in page
    status = fr("status").capitalize()
    submitted = fr(str(InfoSheet.Status.SUBMITTED.label))
    published = fr(str(InfoSheet.Status.PUBLISHED.label))
    assert f"{status}: {submitted} → {published}" in page.replace("\u00a0:", ":").replace(" :", ":")
    # Who validated: nobody before (not a "deleted user"), the manager after.
    empty = fr("(empty)")
    assert f"{empty} → {with_role('Paul Martin', Role.TERRITORY_MANAGER)}" in page
    # The phone went from nothing to a number.
    assert f"{empty} → 02 48 00 00 00" in page
    # An automated write (the sheet created by the platform) is the system's.
    assert fr("System") in page


def test_the_history_page_runs_no_more_queries_for_thirty_changes_than_for_five(
    client, site, people
):
    secretary, manager = people
    validated_then_edited(site, secretary, manager)
    client.force_login(manager)
    url = reverse("site_history", args=[site.pk])

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count_queries()
    for n in range(25):
        other = member(Role.SECRETARY, site=site, user__first_name=f"Léa{n}")
        services.site_update(site=site, by=other, phone=f"02 48 00 00 {n:02d}")
    # Two queries per kind of record on the page at most, whatever the authors.
    assert count_queries() <= few


def test_people_in_words_names_each_person_with_their_roles_in_one_query(
    django_assert_num_queries, site
):
    secretary = member(
        Role.SECRETARY, site=site, user__first_name="Marie", user__last_name="Dupont"
    )
    nameless = User.objects.create_user(email="ops@releve.fr", password="x-123456789")

    with django_assert_num_queries(1):
        names = people_in_words([secretary.pk, nameless.pk, None])

    role = str(Role.SECRETARY.label)
    assert names == {
        secretary.pk: f"Marie Dupont ({role[0].lower()}{role[1:]})",
        nameless.pk: "ops@releve.fr",
    }
    assert people_in_words([None]) == {}


def test_value_in_words_says_empty_for_a_missing_relation_and_deleted_for_a_gone_one():
    from simple_history.models import DeletedObject

    field = InfoSheet._meta.get_field("published_by")
    assert value_in_words(field, DeletedObject(User, None)) == ""
    assert "pk=" not in value_in_words(field, DeletedObject(User, 12))
    status = InfoSheet._meta.get_field("status")
    assert value_in_words(status, "published") == str(InfoSheet.Status.PUBLISHED.label)


def test_the_admin_history_says_changes_in_words(client, site, people):
    secretary, manager = people
    sheet = validated_then_edited(site, secretary, manager)
    operator = User.objects.create_superuser("ops@releve.fr", "pw-ops-123456")
    client.force_login(operator)

    page = client.get(reverse("admin:sites_infosheet_history", args=[sheet.pk]))

    assert page.status_code == 200
    assert "pk=None" not in page.content.decode()
    assert "Paul Martin" in page.content.decode()
