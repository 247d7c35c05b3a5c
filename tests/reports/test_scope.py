"""Where a dashboard stands: each pilot starts at the narrowest place holding its scope, drills
down through it, and gets a 404 anywhere else (unknown, another region, contradicting params)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook

from accounts.roles import Role
from reports import exports
from reports.scope import home_place, place_for
from reports.tables import Column, Table
from tests.factories import HostSiteFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def france():
    """Two territories in Cher (18), one in Indre (36) — Centre-Val de Loire (24) — and one in
    Aveyron (12, Occitanie), a site in each."""
    cher_a = TerritoryFactory(department_id="18", name="CC Berry Grand Sud")
    cher_b = TerritoryFactory(department_id="18", name="CC Cœur de France")
    indre = TerritoryFactory(department_id="36", name="CC Écueillé-Valençay")
    aveyron = TerritoryFactory(department_id="12", name="CC Aubrac, Carladez et Viadène")
    sites = {t.pk: HostSiteFactory(territory=t) for t in (cher_a, cher_b, indre, aveyron)}
    return {"cher_a": cher_a, "cher_b": cher_b, "indre": indre, "aveyron": aveyron}, sites


def _manager(role, **scope):
    return MembershipFactory(role=role, **scope).user


def test_each_pilot_starts_at_the_narrowest_place_holding_its_scope(france):
    territories, _sites = france
    national = _manager(Role.NATIONAL_MANAGER)
    ars = _manager(Role.ARS_MANAGER, region_id="24")
    cpts_one = _manager(Role.TERRITORY_MANAGER, territory=territories["cher_a"])
    cpts_two = _manager(Role.TERRITORY_MANAGER, territory=territories["cher_a"])
    MembershipFactory(user=cpts_two, role=Role.TERRITORY_MANAGER, territory=territories["cher_b"])

    assert home_place(national).level == "national"
    assert [c.label for c in home_place(national).children()] == [
        "Centre-Val de Loire",
        "Occitanie",
    ]
    assert (home_place(ars).level, home_place(ars).region.pk) == ("region", "24")
    assert [c.key for c in home_place(ars).children()] == ["18", "36"]
    assert home_place(cpts_one).territory == territories["cher_a"]
    two = home_place(cpts_two)
    assert (two.level, two.department.pk) == ("department", "18")
    assert [c.label for c in two.children()] == ["CC Berry Grand Sud", "CC Cœur de France"]


def test_drilling_down_names_every_level_in_the_breadcrumbs(france):
    territories, sites = france
    ars = _manager(Role.ARS_MANAGER, region_id="24")
    site = sites[territories["indre"].pk]
    place = place_for(ars, {"site": str(site.pk)})
    assert place.level == "site"
    assert [c.label for c in place.breadcrumbs()] == [
        "France",
        "Centre-Val de Loire",
        "Indre (36)",
        "CC Écueillé-Valençay",
        site.name,
    ]
    assert place.breadcrumbs()[2].params == {"region": "24", "department": "36"}
    assert list(place.sites) == [site]
    department = place_for(ars, {"region": "24", "department": "36"})
    assert [c.obj for c in department.children()] == [territories["indre"]]
    assert department.slug == "department-36"


@pytest.mark.parametrize(
    "params",
    [
        {"region": "76"},  # another region
        {"department": "12"},
        {"territory": "aveyron"},
        {"site": "aveyron"},
        {"region": "24", "department": "12"},  # contradicting
        {"department": "36", "territory": "cher_a"},
        {"territory": "999999"},  # unknown
        {"site": "not-a-number"},
        {"region": "99"},
    ],
)
def test_a_place_outside_the_scope_or_contradicting_itself_is_a_404(france, params):
    territories, sites = france
    ars = _manager(Role.ARS_MANAGER, region_id="24")
    named = {}
    for key, value in params.items():
        if value in territories:
            territory = territories[value]
            value = str(sites[territory.pk].pk if key == "site" else territory.pk)
        named[key] = value
    with pytest.raises(Http404):
        place_for(ars, named)


def test_a_territory_manager_sees_only_its_territory_at_every_level(france):
    territories, sites = france
    cpts = _manager(Role.TERRITORY_MANAGER, territory=territories["cher_a"])
    region = place_for(cpts, {"region": "24"})
    assert list(region.territories) == [territories["cher_a"]]
    assert list(region.sites) == [sites[territories["cher_a"].pk]]
    with pytest.raises(Http404):
        place_for(cpts, {"territory": str(territories["cher_b"].pk)})
    with pytest.raises(Http404):
        place_for(cpts, {"department": "36"})


def test_someone_who_pilots_nothing_has_an_empty_france():
    user = UserFactory()
    place = home_place(user)
    assert place.children() == []
    assert list(place.sites) == []


TABLE = Table(
    name="coverage",
    columns=[
        Column("name", _("Territory"), "text"),
        Column("days", _("Region"), "decimal"),
        Column("amount", _("Amount"), "money"),
    ],
    rows=[
        {"name": "Côte-d’Or « sud »; Saint-Étienne", "days": Decimal("2.5"), "amount": 500},
        {"name": "Aubrac", "days": Decimal("1"), "amount": Decimal("200.00")},
    ],
)


def test_a_csv_keeps_accents_and_columns_and_speaks_french_with_semicolons():
    with translation.override("en"):  # whoever downloads it, the payer reads French headings
        body = "".join(exports.csv_lines(TABLE, sep=";"))
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Territoire", "Région", "Montant"]
    assert rows[1] == ["Côte-d’Or « sud »; Saint-Étienne", "2,5", "500"]
    comma = list(csv.reader(io.StringIO("".join(exports.csv_lines(TABLE)).lstrip("\ufeff"))))
    assert comma[1][1] == "2.5"


def test_an_xlsx_holds_the_same_rows_as_numbers():
    book = load_workbook(io.BytesIO(exports.xlsx_bytes(TABLE)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1] == ("Côte-d’Or « sud »; Saint-Étienne", 2.5, 500)
    assert rows[2][2] == 200.0
