"""Readiness (`/pilotage/preparation/`, issue 11 § 3): the place's sites, sheets to validate,
sites not ready and volunteers to verify, per child of the place, and the three queues.

The figures are checked against a seeded random world computed again here, in plain Python
over the raw rows; every figure's link opens a list holding exactly that many rows.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape, unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from reports import readiness
from reports.scope import place_for
from sites.models import HostSite, InfoSheet, ReadinessItem, SheetReadiness
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, make_sheet
from tests.reports.test_charts import Page as ChartPage
from vacations.models import PARIS
from volunteers.models import Volunteer

URL = "/pilotage/preparation/"
CENTRE = ("18", "36", "37", "41", "45")  # departments of Centre-Val de Loire (region 24)
ELSEWHERE = ("12", "31")  # Occitanie (76)
FIGURES = ("sites", "sites_active", "sheets_to_validate", "sites_not_ready", "volunteers_pending")


@dataclass
class World:
    territories: list = field(default_factory=list)
    sites: list = field(default_factory=list)
    volunteers: list = field(default_factory=list)


def build_world(seed: int, *, territories: int, sites_per_territory: int, volunteers: int):
    """Territories in both regions, sites in every state of sheet and readiness (some with no
    sheet at all), volunteers of every status living and choosing anywhere."""
    rng = random.Random(seed)  # noqa: S311 - a seeded test world, not a secret
    world = World()
    mandatory = list(ReadinessItem.objects.filter(mandatory=True).values_list("code", flat=True))
    base = datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)
    for n in range(territories):
        department = rng.choice(CENTRE) if n % 4 else rng.choice(ELSEWHERE)
        world.territories.append(TerritoryFactory(department_id=department))
    for territory in world.territories:
        for _n in range(rng.randint(0, sites_per_territory)):
            site = HostSiteFactory(
                territory=territory, status=rng.choice(["draft", "active", "active", "suspended"])
            )
            world.sites.append(site)
            state = rng.choice(["none", "draft", "submitted", "published", "changed"])
            if state == "none":
                continue
            sheet = make_sheet(
                site,
                status="published" if state == "changed" else state,
                ready=True,
                revision_status="submitted" if state == "changed" else "none",
                submitted_at=base + timedelta(hours=rng.randint(0, 2000))
                if state == "submitted"
                else None,
            )
            lacking = rng.sample(mandatory, rng.choice([0, 0, 1, 2]))
            SheetReadiness.objects.filter(sheet=sheet, item__code__in=lacking).update(
                status=rng.choice(["missing", "not_applicable"])
            )
            if rng.random() < 0.2:  # an item added to the catalogue since: no row at all
                SheetReadiness.objects.filter(
                    sheet=sheet, item__code=rng.choice(mandatory)
                ).delete()
            # An optional item missing never makes a site "not ready".
            SheetReadiness.objects.filter(sheet=sheet, item__mandatory=False).update(
                status=rng.choice(["ok", "missing"])
            )
    for n in range(volunteers):
        volunteer = VolunteerFactory(
            status=rng.choice(["pending", "pending", "verified", "suspended"]),
            home_department_id=rng.choice((*CENTRE, *ELSEWHERE, "75")),
            territories=rng.sample(world.territories, rng.choice([0, 1, 1, 2])),
            committed=False,
        )
        Volunteer.objects.filter(pk=volunteer.pk).update(
            created_at=base + timedelta(hours=rng.randint(0, 3000), minutes=n)
        )
        world.volunteers.append(volunteer)
    return world


# --- The same figures, from the raw rows ------------------------------------------------------


def expected_sites():
    """{site pk: (department, territory pk, active, to validate, not ready)} from raw rows."""
    mandatory = set(ReadinessItem.objects.filter(mandatory=True).values_list("pk", flat=True))
    ok = {}
    for row in SheetReadiness.objects.filter(status="ok").values("sheet__site", "item"):
        ok.setdefault(row["sheet__site"], set()).add(row["item"])
    sheets = {sheet.site_id: sheet for sheet in InfoSheet.objects.all()}
    from sites.models import HostSite

    facts = {}
    for site in HostSite.objects.select_related("territory"):
        sheet = sheets.get(site.pk)
        to_validate = sheet is not None and (
            sheet.status == "submitted"
            or (sheet.status == "published" and sheet.revision_status == "submitted")
        )
        not_ready = not mandatory <= ok.get(site.pk, set())
        facts[site.pk] = (
            site.territory.department_id,
            site.territory_id,
            site.status == "active",
            to_validate,
            not_ready,
        )
    return facts


def expected_volunteers():
    """{volunteer pk: (home department, {departments chosen}, {territories chosen})} of the
    pending ones."""
    result = {}
    for volunteer in Volunteer.objects.filter(status="pending").prefetch_related(
        "preferred_territories"
    ):
        chosen = list(volunteer.preferred_territories.all())
        result[volunteer.pk] = (
            volunteer.home_department_id,
            {t.department_id for t in chosen},
            {t.pk for t in chosen},
        )
    return result


def department_rows(departments):
    """Expected rows of the region page: one per department holding a territory."""
    sites, volunteers = expected_sites(), expected_volunteers()
    rows = {}
    for code in departments:
        mine = [facts for facts in sites.values() if facts[0] == code]
        rows[code] = {
            "sites": len(mine),
            "sites_active": sum(f[2] for f in mine),
            "sheets_to_validate": sum(f[3] for f in mine),
            "sites_not_ready": sum(f[4] for f in mine),
            "volunteers_pending": sum(
                1 for home, chosen, _t in volunteers.values() if home == code or code in chosen
            ),
        }
    return rows


def page_rows(html: str) -> dict[str, dict[str, str]]:
    """The report table of the page as {first cell: {column key: shown value}}."""
    table = re.search(r'data-testid="report-readiness">(.*?)</table>', html, re.S)[1]
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S)[1]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        name = unescape(re.sub(r"<[^>]+>", "", re.search(r"<th[^>]*>(.*?)</th>", row, re.S)[1]))
        cells = re.findall(r'<td data-key="(\w+)"[^>]*>(.*?)</td>', row, re.S)
        rows[name.strip()] = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells}
    return rows


# --- Tests ------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return build_world(7, territories=14, sites_per_territory=5, volunteers=40)


def test_the_region_page_shows_each_departments_figures_computed_from_the_raw_rows(client, world):
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(ars)

    response = client.get(URL)

    assert response.status_code == 200
    departments = sorted({t.department_id for t in world.territories if t.department_id in CENTRE})
    expected = department_rows(departments)
    table = response.context["table"]
    got = {row["name"].split(" (")[1].rstrip(")"): row for row in table.rows}
    assert sorted(got) == departments
    for code in departments:
        assert {key: got[code][key] for key in FIGURES} == expected[code], code
    # The page shows the same numbers, in a table that says what it holds.
    html = response.content.decode()
    assert re.search(r'data-testid="report-readiness">\s*<caption>[^<\s]', html)
    shown = page_rows(html)
    for row in table.rows:
        assert shown[row["name"]] == {key: str(row[key]) for key in FIGURES}
    # Totals: the sites' figures add up; a volunteer of two departments counts once.
    in_region = {
        pk
        for pk, (home, chosen, _t) in expected_volunteers().items()
        if home in CENTRE or chosen & set(CENTRE)
    }
    assert table.totals["volunteers_pending"] == len(in_region)
    assert table.totals["sites"] == sum(expected[code]["sites"] for code in departments)
    assert sum(expected[c]["volunteers_pending"] for c in departments) >= len(in_region)


def test_the_chart_stacks_each_departments_sites_ready_and_not_ready(client, world):
    client.force_login(member(Role.ARS_MANAGER, region_id="24"))

    html = client.get(URL).content.decode()

    departments = sorted({t.department_id for t in world.territories if t.department_id in CENTRE})
    expected = department_rows(departments)
    ((tag, bar),) = ChartPage(html).components
    assert (tag, bar["stacked"]) == ("bar-chart", "true")
    labels = json.loads(bar["x"])[0]
    ready, not_ready = json.loads(bar["y"])
    by_code = {
        label.split(" (")[1].rstrip(")"): (ready[i], not_ready[i]) for i, label in enumerate(labels)
    }
    assert by_code == {
        code: (
            expected[code]["sites"] - expected[code]["sites_not_ready"],
            expected[code]["sites_not_ready"],
        )
        for code in departments
    }
    assert sum(ready) > 0
    assert sum(not_ready) > 0


def test_the_overview_tiles_give_the_regions_readiness_and_open_its_lists(client, world):
    client.force_login(member(Role.ARS_MANAGER, region_id="24"))

    response = client.get(reverse("reports:overview"))

    departments = sorted({t.department_id for t in world.territories if t.department_id in CENTRE})
    expected = department_rows(departments)
    in_region = {
        pk
        for pk, (home, chosen, _t) in expected_volunteers().items()
        if home in CENTRE or chosen & set(CENTRE)
    }
    want = {
        "sheets_to_validate": sum(row["sheets_to_validate"] for row in expected.values()),
        "sites_not_ready": sum(row["sites_not_ready"] for row in expected.values()),
        "volunteers_pending": len(in_region),
    }
    tiles = {t["name"]: t for t in response.context["topic_tiles"]}
    assert {key: int(tiles[key]["value"]) for key in want} == want
    assert all(want.values())
    for key, count in want.items():
        listed = client.get(tiles[key]["url"])
        assert listed.context["page_obj"].paginator.count == count, key
    html = response.content.decode()
    assert 'data-tile="sites_not_ready"' in html
    assert f'href="{escape(tiles["sites_not_ready"]["url"])}"' in html


def test_the_overview_map_shows_the_regions_sites_by_readiness_a_bounded_number(client, world):
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(ars)
    in_region = [s for s in world.sites if s.territory.department_id in CENTRE]
    placed = in_region[::2]
    HostSite.objects.filter(pk__in=[s.pk for s in placed]).update(
        latitude=Decimal("47.08"), longitude=Decimal("2.39")
    )
    elsewhere = next(s for s in world.sites if s.territory.department_id not in CENTRE)
    HostSite.objects.filter(pk=elsewhere.pk).update(latitude=43.6, longitude=1.44)

    response = client.get(reverse("reports:overview"))

    facts = expected_sites()
    shown = {site["url"]: site["ready"] for site in response.context["map_sites"]}
    assert shown == {reverse("site_detail", args=[s.pk]): not facts[s.pk][4] for s in placed}
    assert set(shown.values()) == {True, False}
    assert response.context["map_sites_cut"] is False
    html = response.content.decode()
    table = html[html.index('data-testid="map-sites"') :]
    for url in shown:
        assert f'href="{url}"' in table
    # Bounded: the first sites by name, and the page says more were left out.
    sites, cut = readiness.map_sites(place_for(ars, {}), limit=3)
    names = sorted((s.name, s.pk) for s in placed)
    assert [s["name"] for s in sites] == [name for name, _pk in names[:3]]
    assert cut is True


def test_every_figure_opens_the_list_it_counts(client, world):
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(ars)
    table = client.get(URL).context["table"]
    department = max(table.rows, key=lambda row: row["sites"])

    for key in FIGURES:
        listed = client.get(department["links"][key])
        assert listed.status_code == 200
        assert listed.context["page_obj"].paginator.count == department[key], key
    # Down the drill-down: the department's page, its territories' links.
    down = client.get(department["url"])
    assert down.status_code == 200
    for row in down.context["table"].rows:
        for key in FIGURES:
            listed = client.get(row["links"][key])
            assert listed.context["page_obj"].paginator.count == row[key], (row["name"], key)


def test_a_territory_page_lists_its_sites_and_counts_its_volunteers_once(client, world):
    territory = max(world.territories, key=lambda t: t.sites.count())
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    client.force_login(manager)
    facts = expected_sites()

    response = client.get(URL)

    table = response.context["table"]
    assert [row["name"] for row in table.rows] == sorted(
        s.name for s in world.sites if s.territory_id == territory.pk
    )
    for row in table.rows:
        site = next(s for s in world.sites if s.name == row["name"])
        assert row["sites_not_ready"] == int(facts[site.pk][4])
        assert row["volunteers_pending"] is None  # a site has no volunteers of its own
        assert row["url"].startswith(f"{URL}?")
        assert row["url"].endswith(f"site={site.pk}")
    chose = [pk for pk, (_h, _d, t) in expected_volunteers().items() if territory.pk in t]
    assert table.totals["volunteers_pending"] == len(chose)
    tile = re.search(
        r'data-key="volunteers_pending">.*?<a href="([^"]+)">.*?fr-tile__detail[^>]*>(\d+)<',
        response.content.decode(),
        re.S,
    )
    assert int(tile[2]) == len(chose)
    listed = client.get(unescape(tile[1]))
    assert listed.context["page_obj"].paginator.count == len(chose)


def test_the_queues_put_the_longest_waiting_first_and_say_what_is_missing(client, world):
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(ars)
    in_region = [s for s in world.sites if s.territory.department_id in CENTRE]
    facts = expected_sites()

    first = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    second = client.get(URL, {"sheets_page": 2, "volunteers_page": 2})

    sheets = list(first.context["sheets"].page)
    if first.context["sheets"].page.has_next():  # else page 2 shows the last page again
        sheets += list(second.context["sheets"].page)
    assert {s.pk for s in sheets} == {s.pk for s in in_region if facts[s.pk][3]}
    waited = [s.waiting_since for s in sheets]
    assert waited == sorted(waited)
    submitted = [s for s in sheets if s.info_sheet.status == "submitted"]
    assert all(s.waiting_since == s.info_sheet.submitted_at for s in submitted)
    html = first.content.decode()
    site = sheets[0]
    assert f'href="{reverse("site_detail", args=[site.pk])}#sheet-status"' in html
    assert timezone.localtime(site.waiting_since).strftime("%m/%d/%Y") in html
    # Each queue pages on its own, keeping the others' page.
    assert second.context["sites"].page.number == 1
    assert second.context["volunteers"].page.number == 2
    assert "sheets_page=2" in second.context["volunteers"].previous_url

    volunteers = list(first.context["volunteers"].page) + list(second.context["volunteers"].page)
    created = [v.created_at for v in volunteers]
    assert created == sorted(created)
    assert f"{reverse('volunteer_detail', args=[volunteers[0].pk])}#verification-title" in html

    not_ready = first.context["sites"].page
    assert not_ready.paginator.count == sum(facts[s.pk][4] for s in in_region)
    catalogue = list(
        ReadinessItem.objects.filter(mandatory=True).order_by("position").values_list("pk", "label")
    )
    for site in not_ready:
        ok = set(
            SheetReadiness.objects.filter(sheet__site=site, status="ok").values_list(
                "item", flat=True
            )
        )
        assert site.missing == [label for pk, label in catalogue if pk not in ok]
        assert site.missing  # never listed with nothing missing


def test_a_site_without_a_sheet_lacks_every_mandatory_item(client, db):
    territory = TerritoryFactory()
    HostSiteFactory(territory=territory, name="Sans fiche")
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    client.force_login(manager)

    response = client.get(URL)

    [site] = response.context["sites"].page
    assert site.missing == list(
        ReadinessItem.objects.filter(mandatory=True)
        .order_by("position")
        .values_list("label", flat=True)
    )
    assert "Messagerie sécurisée MSSanté configurée" in response.content.decode()


@pytest.mark.parametrize(
    ("size", "params"),
    [
        (2, {}),
        (40, {}),
        (2, {"department": "18"}),
        (40, {"department": "18"}),
    ],
)
def test_the_page_costs_the_same_whatever_the_size(
    client, db, django_assert_num_queries, size, params
):
    build_world(size, territories=size, sites_per_territory=4, volunteers=size * 2)
    # The region spans two departments at least: its page is the region's at both sizes.
    TerritoryFactory(department_id="18"), TerritoryFactory(department_id="36")
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(ars)

    # session, user, roles (shell), unread messages, place (2), children, sites' figures,
    # volunteers per row, volunteers' total, three queues (count + page each), catalogue
    with django_assert_num_queries(17):
        response = client.get(URL, params)

    assert response.status_code == 200
    assert response.context["place"].level == ("department" if params else "region")


def test_outside_its_scope_a_manager_gets_404(client, db):
    mine, other = TerritoryFactory(department_id="18"), TerritoryFactory(department_id="18")
    foreign = HostSiteFactory(territory=other)
    manager = member(Role.TERRITORY_MANAGER, territory=mine)
    ars = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(manager)

    assert client.get(URL, {"territory": other.pk}).status_code == 404
    assert client.get(URL, {"site": foreign.pk}).status_code == 404
    assert client.get(URL, {"region": "76"}).status_code == 404
    assert client.get(URL, {"territory": mine.pk}).status_code == 200
    client.force_login(ars)
    assert client.get(URL, {"territory": other.pk}).status_code == 200
    assert client.get(URL, {"region": "76"}).status_code == 404


def test_the_page_is_for_pilots(client, site, secretary, volunteer):
    for user in (secretary, volunteer):
        client.force_login(user)
        assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_the_national_manager_reads_every_region(client, world):
    national = member(Role.NATIONAL_MANAGER)
    client.force_login(national)

    table = client.get(URL).context["table"]

    assert [row["name"] for row in table.rows] == ["Centre-Val de Loire", "Occitanie"]
    assert table.totals["sites"] == len(world.sites)
    assert table.totals["volunteers_pending"] == len(expected_volunteers())
