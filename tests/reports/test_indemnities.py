"""What we owe (issue 11 § money): the indemnities of a month from closed days only, per
place, territory and volunteer; the statement `draft → validated → paid`; the page, the API,
the CSV and the XLSX agree with a count made here, in plain Python, from the raw days."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from accounts.errors import DomainError
from accounts.models import User
from accounts.permissions import allowed
from accounts.roles import Role
from continuity import services as continuity
from reports import services
from reports.indemnities import VOLUNTEER_COLUMNS
from reports.models import Statement
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    handed_over,
    open_day,
)
from tests.reports.test_charts import Page as ChartPage
from vacations.models import PARIS, Vacation

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=PARIS)
JAN, FEB, MAR = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)
WEIGHT = {"day": Decimal("1"), "am": Decimal("0.5"), "pm": Decimal("0.5")}
PAY = {"day": Decimal("200.00"), "am": Decimal("100.00"), "pm": Decimal("100.00")}
NAMES = [
    ("Hélène", "Lefèvre"), ("François", "Ségur"), ("Zoé", "Bénard"), ("Jérôme", "Dupré"),
    ("Maëlle", "Aubé"), ("Noël", "Gaël"), ("Agnès", "Câlin"), ("Loïc", "Thévenin"),
    ("Cécile", "Désiré"), ("Léon", "Béraud"), ("Inès", "Crémieux"), ("Éric", "Oré"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _mid_march():
    with time_machine.travel(NOW, tick=False):
        yield


# --- The generator ------------------------------------------------------------------------------


@dataclass
class World:
    territories: dict[str, Any]
    sites: list
    volunteers: list
    users: dict[str, Any] = field(default_factory=dict)


def build_world(*, seed: int = 7, volunteers: int = 8, days_each: int = 9) -> World:
    """Four territories (three in Centre-Val de Loire, one in Occitanie), two sites each,
    volunteers with days in January, February and March in every status, half-days too, and
    statements in every state."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible data set, not a secret
    territories = {
        "berry": TerritoryFactory(name="CC Berry Grand Sud", department_id="18"),
        "champagne": TerritoryFactory(name="CC de Champagne berrichonne", department_id="36"),
        "loire": TerritoryFactory(name="CC Cœur de Loire", department_id="45"),
        "aubrac": TerritoryFactory(name="CC Aubrac, Carladez et Viadène", department_id="12"),
    }
    sites = [
        HostSiteFactory(territory=t, name=f"{prefix} {t.name[3:]}")
        for t in territories.values()
        for prefix in ("MSP de l’Étang", "Centre de santé Émile-Zola")
    ]
    people = [
        VolunteerFactory(user__first_name=first, user__last_name=last)
        for first, last in (NAMES * 3)[:volunteers]
    ]
    calendar = [JAN + timedelta(days=n) for n in range(90)]  # 1 January to 31 March
    for volunteer in people:
        for day in rng.sample(calendar, days_each):
            site = rng.choice(sites)
            period = rng.choice(["day", "day", "am", "pm"])
            status = rng.choice(["done"] * 5 + ["booked", "cancelled", "no_show", "requested"])
            if day >= NOW.date() and status in ("done", "no_show"):
                status = "booked"
            fields = {"status": status, "volunteer": volunteer}
            if status == "done":
                fields.update(indemnity=PAY[period], consultations_count=12)
            open_day(site, day, period, **fields)
        open_day(rng.choice(sites), rng.choice(calendar))  # open days count for nothing
    # A volunteer who worked in two territories in February (the 28th is never sampled twice:
    # the generator's days are drawn from the same calendar, so take a fresh volunteer).
    traveller = VolunteerFactory(user__first_name="Amélie", user__last_name="Voyageuse")
    berry, champagne = territories["berry"].sites.first(), territories["champagne"].sites.first()
    open_day(
        berry,
        date(2027, 2, 3),
        "day",
        status="done",
        volunteer=traveller,
        indemnity=PAY["day"],
        consultations_count=10,
    )
    open_day(
        champagne,
        date(2027, 2, 10),
        "am",
        status="done",
        volunteer=traveller,
        indemnity=PAY["am"],
        consultations_count=6,
    )
    open_day(champagne, date(2027, 2, 17), "pm", status="done", volunteer=traveller,
             indemnity=PAY["pm"], consultations_count=7)  # fmt: skip
    # Every territory has closed days in January and February (its statements can be signed),
    # whatever the seed: an anchor volunteer's, one a month in each.
    anchor = VolunteerFactory(user__first_name="Anaïs", user__last_name="Ancre")
    for n, territory in enumerate(territories.values()):
        for month in (JAN, FEB):
            open_day(territory.sites.last(), month.replace(day=20 + n), "day", status="done",
                     volunteer=anchor, indemnity=PAY["day"], consultations_count=5)  # fmt: skip
    world = World(territories, sites, [*people, anchor, traveller])
    users = world.users
    for key, territory in territories.items():
        users[f"tm_{key}"] = member(Role.TERRITORY_MANAGER, territory=territory)
    users["ars"] = member(Role.ARS_MANAGER, region_id="24")
    users["ars_south"] = member(Role.ARS_MANAGER, region_id="76")
    users["national"] = member(Role.NATIONAL_MANAGER)
    # Statements in every state: February's of Champagne validated, Loire's paid; January's
    # of Berry paid; the rest drafts without a row.
    at = NOW - timedelta(days=3)
    services.statement_validate(
        territory=territories["champagne"], month=FEB, by=users["tm_champagne"], now=at
    )
    loire = services.statement_validate(
        territory=territories["loire"], month=FEB, by=users["tm_loire"], now=at
    )
    services.statement_pay(statement=loire, by=users["ars"], reference="VIR-2027-0042", now=at)
    january = services.statement_validate(
        territory=territories["berry"], month=JAN, by=users["tm_berry"], now=at
    )
    services.statement_pay(statement=january, by=users["ars"], reference="VIR-2027-0007", now=at)
    return world


@pytest.fixture
def world(db) -> World:
    return build_world()


# --- The count made here, from the raw rows ------------------------------------------------------


def expected(month: date, territory_ids) -> dict[tuple[int, int], dict]:
    """{(volunteer, territory): {days, amount, status}} from every vacation row, in Python."""
    statuses = {
        row["territory_id"]: row["status"]
        for row in Statement.objects.filter(month=month).values("territory_id", "status")
    }
    rows: dict[tuple[int, int], dict] = defaultdict(
        lambda: {"days": Decimal(0), "amount": Decimal(0)}
    )
    for day in Vacation.objects.values(
        "status", "date", "period", "indemnity", "volunteer_id", "site__territory_id"
    ):
        if day["status"] != "done" or day["date"].replace(day=1) != month:
            continue
        if day["site__territory_id"] not in territory_ids:
            continue
        row = rows[(day["volunteer_id"], day["site__territory_id"])]
        row["days"] += WEIGHT[day["period"]]
        row["amount"] += day["indemnity"]
    for (_volunteer, territory), row in rows.items():
        row["status"] = statuses.get(territory, "draft")
    return dict(rows)


def ids(world: World, *keys: str) -> set[int]:
    return {world.territories[k].pk for k in keys}


CENTRE = ("berry", "champagne", "loire")


def api_rows(api, user, query) -> tuple[dict, dict]:
    api.force_authenticate(user)
    body = api.get(reverse("api-report-indemnities"), {**query, "page_size": 200}).json()
    return body, {
        (r["volunteer"], r["territory"]): {
            "days": Decimal(str(r["days"])),
            "amount": Decimal(r["amount"]),
            "status": r["status"],
        }
        for r in body["results"]
    }


# --- HTML tables, read back ------------------------------------------------------------------


class Tables(HTMLParser):
    """Each `<table data-testid=…>`: its body rows and its footer, as (text, link) cells."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self._table = self._section = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("data-testid")
            self.tables[self._table] = {"tbody": [], "tfoot": []}
        elif tag in ("tbody", "tfoot"):
            self._section = tag
        elif tag == "tr" and self._section and self._table:
            self.tables[self._table][self._section].append([])
        elif tag in ("th", "td") and self._section and self._table:
            self._cell = {"text": "", "href": None}
        elif tag == "a" and self._cell is not None and self._cell["href"] is None:
            self._cell["href"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self.tables[self._table][self._section][-1].append(self._cell)
            self._cell = None
        elif tag in ("tbody", "tfoot"):
            self._section = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def number(text: str) -> Decimal:
    """A French figure of the page ("1 200,00 €", "1,5") as a Decimal."""
    for junk in ("€", " ", "\xa0", "\u202f"):
        text = text.replace(junk, "")
    return Decimal(text.replace(",", "."))


def page_tables(client, user, query) -> dict:
    client.force_login(user)
    response = client.get(reverse("reports:indemnities"), query)
    assert response.status_code == 200
    return Tables(response.content.decode()).tables


# --- The figures ---------------------------------------------------------------------------------


def test_the_api_counts_closed_days_only_per_volunteer_and_territory(api, world):
    body, rows = api_rows(api, world.users["ars"], {"month": "2027-02"})

    want = expected(FEB, ids(world, *CENTRE))
    assert rows == want
    assert body["count"] == len(want) > 5
    assert body["month"] == "2027-02"
    assert Decimal(body["totals"]["amount"]) == sum(r["amount"] for r in want.values())
    assert Decimal(str(body["totals"]["days"])) == sum(r["days"] for r in want.values())
    # Half-days are in: some row holds a half.
    assert any(r["days"] % 1 for r in want.values())
    # Every state of a statement shows.
    assert {r["status"] for r in want.values()} == {"draft", "validated", "paid"}
    # Days in every other status exist and count for nothing.
    assert set(Vacation.objects.values_list("status", flat=True)) >= {
        "open", "requested", "booked", "cancelled", "no_show", "done"
    }  # fmt: skip


def test_each_pilot_reads_its_own_scope_and_the_month_asked(api, world):
    for user, keys, month in (
        (world.users["national"], (*CENTRE, "aubrac"), JAN),
        (world.users["ars_south"], ("aubrac",), FEB),
        (world.users["tm_champagne"], ("champagne",), FEB),
        (world.users["tm_berry"], ("berry",), MAR),
    ):
        _body, rows = api_rows(api, user, {"month": f"{month:%Y-%m}"})
        assert rows == expected(month, ids(world, *keys)), user


def test_the_month_is_last_month_by_default_and_a_bad_one_is_refused_by_name(api, client, world):
    _body, default = api_rows(api, world.users["ars"], {})
    assert default == expected(FEB, ids(world, *CENTRE))

    refused = api.get(reverse("api-report-indemnities"), {"month": "février"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["month"]

    client.force_login(world.users["ars"])
    page = client.get(reverse("reports:indemnities"), {"month": "2027-13"})
    assert page.status_code == 200
    assert 'id="id_month_error"' in page.content.decode()


def test_a_volunteer_who_worked_in_two_territories_has_a_row_and_a_status_in_each(api, world):
    traveller = world.volunteers[-1]
    _body, rows = api_rows(api, world.users["ars"], {"month": "2027-02"})

    mine = {t: r for (v, t), r in rows.items() if v == traveller.pk}
    berry, champagne = world.territories["berry"].pk, world.territories["champagne"].pk
    assert mine == {
        berry: {"days": Decimal("1"), "amount": Decimal("200.00"), "status": "draft"},
        champagne: {"days": Decimal("1"), "amount": Decimal("200.00"), "status": "validated"},
    }


def test_a_day_closed_through_its_closure_counts_the_next_month(api, world):
    # The one way a day is closed: its exams listed (here: none) and its handover written.
    site = world.territories["berry"].sites.first()
    nurse = member(Role.COURSE_NURSE, site=site)
    day = open_day(site, date(2027, 3, 12), "am", status="booked", volunteer=world.volunteers[0])
    handed_over(day)
    _body, before = api_rows(api, world.users["tm_berry"], {"month": "2027-03"})

    continuity.day_close(vacation=day, by=nurse, consultations_count=9, no_exams=True)

    _body, after = api_rows(api, world.users["tm_berry"], {"month": "2027-03"})
    key = (world.volunteers[0].pk, world.territories["berry"].pk)
    old = before.get(key, {"days": Decimal(0), "amount": Decimal(0)})
    assert after[key]["days"] - old["days"] == Decimal("0.5")
    assert after[key]["amount"] - old["amount"] == Decimal("100.00")


# --- The exports ---------------------------------------------------------------------------------


def _headings() -> list[str]:
    with translation.override("fr"):
        return [str(c.label) for c in VOLUNTEER_COLUMNS]


def test_the_payers_csv_parsed_back_keeps_accents_columns_and_figures(api, world):
    api.force_authenticate(world.users["ars"])
    response = api.get(
        reverse("api-report-indemnities"), {"month": "2027-02", "format": "csv", "sep": ";"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "releve-indemnities-region-24-2027-02.csv" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == _headings()
    keys = [c.key for c in VOLUNTEER_COLUMNS]
    got = {}
    names = set()
    for line in lines[1:]:
        row = dict(zip(keys, line, strict=True))
        got[(int(row["volunteer"]), int(row["territory"]))] = {
            "days": Decimal(row["days"].replace(",", ".")),
            "amount": Decimal(row["amount"].replace(",", ".")),
            "status": row["status"],
        }
        names.add(row["name"])
        assert len(row["rpps"]) == 11
    assert got == expected(FEB, ids(world, *CENTRE))
    assert "Amélie Voyageuse" in names
    assert any(any(c in name for c in "éèëç") for name in names - {"Amélie Voyageuse"})
    assert {line[keys.index("territory_name")] for line in lines[1:]} >= {"CC Cœur de Loire"}


def test_the_xlsx_holds_the_same_rows(api, world):
    api.force_authenticate(world.users["national"])
    response = api.get(reverse("api-report-indemnities"), {"month": "2027-01", "format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == _headings()
    keys = [c.key for c in VOLUNTEER_COLUMNS]
    got = {}
    for line in lines[1:]:
        row = dict(zip(keys, line, strict=True))
        got[(int(row["volunteer"]), int(row["territory"]))] = {
            "days": Decimal(str(row["days"])),
            "amount": Decimal(str(row["amount"])).quantize(Decimal("0.01")),
            "status": row["status"],
        }
    assert got == expected(JAN, ids(world, *CENTRE, "aubrac"))
    with translation.override("fr"):
        labels = {str(Statement.Status(s).label) for s in ("draft", "paid")}
    assert {line[keys.index("status_label")] for line in lines[1:]} == labels


# --- The page ------------------------------------------------------------------------------------


def test_the_page_shows_the_same_figures_per_place_territory_and_volunteer(client, world):
    tables = page_tables(client, world.users["ars"], {"month": "2027-02"})
    want = expected(FEB, ids(world, *CENTRE))

    # Per volunteer: name, RPPS, territory, days, amount, statement.
    volunteers = tables["report-indemnities"]["tbody"]
    names = {v.pk: v.full_name for v in world.volunteers}
    rpps = {v.pk: v.rpps for v in world.volunteers}
    territory_names = {t.pk: t.name for t in world.territories.values()}
    shown = sorted(
        (c[0]["text"], c[1]["text"], c[2]["text"], number(c[3]["text"]), number(c[4]["text"]))
        for c in volunteers
    )
    assert shown == sorted(
        (names[v], rpps[v], territory_names[t], r["days"], r["amount"])
        for (v, t), r in want.items()
    )
    # Per department (the ARS stands in its region): days and amount, draft / validated / paid.
    per_department = defaultdict(lambda: defaultdict(Decimal))
    department = {t.pk: str(t.department) for t in world.territories.values()}
    for (_v, t), r in want.items():
        bucket = per_department[department[t]]
        bucket["days"] += r["days"]
        bucket["amount"] += r["amount"]
        bucket[r["status"]] += r["amount"]
    places = tables["report-indemnities_by_place"]["tbody"]
    assert len(places) == 3
    for cells in places:
        name = cells[0]["text"]
        figures = [number(c["text"]) for c in cells[1:6]]
        bucket = per_department[name]
        assert figures == [
            bucket["days"], bucket["amount"], bucket["draft"], bucket["validated"], bucket["paid"]
        ], name  # fmt: skip
    # Per territory: the statements, with who validated and who paid.
    loire = next(r for r in tables["statements"]["tbody"] if "Loire" in r[0]["text"])
    assert world.users["tm_loire"].get_full_name() in loire[5]["text"]
    assert world.users["ars"].get_full_name() in loire[6]["text"]
    assert "VIR-2027-0042" in loire[6]["text"]
    # The history of those statements: who, when.
    history = tables["history"]["tbody"]
    assert len(history) == 3  # Champagne validated; Loire validated then paid
    assert {row[3]["text"] for row in history} == {
        world.users["tm_champagne"].get_full_name(),
        world.users["tm_loire"].get_full_name(),
        world.users["ars"].get_full_name(),
    }


def test_the_chart_stacks_each_places_amount_to_validate_validated_and_paid(client, world):
    client.force_login(world.users["ars"])
    html = client.get(reverse("reports:indemnities"), {"month": "2027-02"}).content.decode()
    want = expected(FEB, ids(world, *CENTRE))

    per_department = defaultdict(lambda: defaultdict(Decimal))
    department = {t.pk: str(t.department) for t in world.territories.values()}
    for (_v, t), r in want.items():
        per_department[department[t]][r["status"]] += r["amount"]
    ((tag, bar),) = ChartPage(html).components
    assert (tag, bar["stacked"], bar["unit-tooltip"]) == ("bar-chart", "true", "€")
    labels = json.loads(bar["x"])[0]
    assert len(labels) == 3
    stacks = json.loads(bar["y"])
    assert {
        label: [Decimal(str(stack[i])) for stack in stacks] for i, label in enumerate(labels)
    } == {
        label: [per_department[label][s] for s in ("draft", "validated", "paid")]
        for label in labels
    }
    assert sum(sum(stack) for stack in stacks) > 0


def test_the_overview_tiles_give_last_months_amount_and_the_drafts_and_open_the_page(client, world):
    client.force_login(world.users["ars"])

    response = client.get(reverse("reports:overview"))

    want = expected(FEB, ids(world, *CENTRE))  # NOW is in March: last month is February
    drafts = {t for (_v, t), r in want.items() if r["status"] == "draft"}
    tiles = {t["name"]: t for t in response.context["topic_tiles"]}
    assert number(tiles["indemnities_amount"]["value"]) == sum(r["amount"] for r in want.values())
    assert int(tiles["statements_to_validate"]["value"]) == len(drafts) > 0
    assert {r["status"] for r in want.values()} > {"draft"}  # validated or paid ones too
    page = client.get(tiles["indemnities_amount"]["url"])
    assert page.context["month"] == FEB
    assert page.context["place"].level == "region"
    assert tiles["statements_to_validate"]["url"].endswith("#statements")


def test_each_figure_links_to_the_closed_days_it_counts(client, world):
    tables = page_tables(client, world.users["ars"], {"month": "2027-02"})
    # (link, figure shown, which total of the list it must equal)
    links = []
    for cells in tables["report-indemnities_by_place"]["tbody"]:
        kinds = ("days", "amount", "amount", "amount", "amount")
        links += [(c["href"], number(c["text"]), k) for c, k in zip(cells[1:6], kinds, strict=True)]
        links.append((cells[6]["href"], Decimal(cells[6]["text"]), "volunteers"))
    for cells in tables["statements"]["tbody"]:
        links += [(cells[1]["href"], number(cells[1]["text"]), "days")]
        links += [(cells[2]["href"], number(cells[2]["text"]), "amount")]
    for cells in tables["report-indemnities"]["tbody"]:
        links += [(cells[3]["href"], number(cells[3]["text"]), "days")]
        links += [(cells[4]["href"], number(cells[4]["text"]), "amount")]

    for href, figure, kind in links:
        assert href, "a figure without a link"
        listing = client.get(href)
        assert listing.status_code == 200, href
        assert listing.context["totals"][kind] == figure, href
        days = listing.context["page_obj"].object_list
        assert all(d.status == "done" and d.date.replace(day=1) == FEB for d in days)
    assert len(links) > 3 * 6 + 3 * 2 + 10


def test_the_days_behind_a_figure_stay_within_the_scope(client, world):
    client.force_login(world.users["tm_berry"])
    listing = reverse("reports:indemnity_days")

    mine = client.get(listing, {"month": "2027-02", "territory": world.territories["berry"].pk})
    other = client.get(listing, {"month": "2027-02", "territory": world.territories["loire"].pk})
    bad = client.get(listing, {"month": "2027-02", "volunteer": "x"})

    assert mine.status_code == 200
    assert {d.site.territory_id for d in mine.context["page_obj"]} == {
        world.territories["berry"].pk
    }
    assert (other.status_code, bad.status_code) == (404, 404)


def test_a_territory_manager_gets_404_on_another_territory_page_api_and_export(client, api, world):
    manager = world.users["tm_berry"]
    client.force_login(manager)
    api.force_authenticate(manager)
    other = {"territory": world.territories["loire"].pk, "month": "2027-02"}

    assert client.get(reverse("reports:indemnities"), other).status_code == 404
    assert api.get(reverse("api-report-indemnities"), other).status_code == 404
    csv_other = api.get(reverse("api-report-indemnities"), {**other, "format": "csv"})
    assert csv_other.status_code == 404
    mine = {**other, "territory": world.territories["berry"].pk}
    assert client.get(reverse("reports:indemnities"), mine).status_code == 200


# --- The statement's workflow ---------------------------------------------------------------------


def _post(client, user, name, territory, data):
    client.force_login(user)
    return client.post(reverse(f"reports:{name}", args=[territory.pk]), data, follow=True)


def test_the_territory_manager_validates_then_the_ars_records_the_payment(client, world):
    berry = world.territories["berry"]
    figures = expected(FEB, {berry.pk})

    validated = _post(client, world.users["tm_berry"], "statement_validate", berry,
                      {"month": "2027-02"})  # fmt: skip
    statement = Statement.objects.get(territory=berry, month=FEB)
    assert validated.status_code == 200
    assert statement.status == "validated"
    assert statement.validated_by == world.users["tm_berry"]
    assert statement.validated_at == NOW
    assert statement.validated_days == sum(r["days"] for r in figures.values())
    assert statement.validated_amount == sum(r["amount"] for r in figures.values())
    assert [m.level_tag for m in validated.context["messages"]] == ["success"]

    paid = _post(client, world.users["ars"], "statement_pay", berry,
                 {"month": "2027-02", "reference": "VIR-2027-0101"})  # fmt: skip
    statement.refresh_from_db()
    assert paid.status_code == 200
    assert (statement.status, statement.paid_by, statement.paid_at) == (
        "paid", world.users["ars"], NOW
    )  # fmt: skip
    assert statement.payment_reference == "VIR-2027-0101"

    history = list(statement.history.order_by("history_id"))
    assert [(h.status, h.history_user) for h in history] == [
        ("validated", world.users["tm_berry"]),
        ("paid", world.users["ars"]),
    ]
    page = Tables(paid.content.decode()).tables
    assert any("VIR-2027-0101" in row[4]["text"] for row in page["history"]["tbody"])


def test_the_buttons_show_for_whoever_may_sign(client, world):
    def buttons(user) -> dict[str, set[str]]:
        client.force_login(user)
        html = client.get(reverse("reports:indemnities"), {"month": "2027-02"}).content.decode()
        found = defaultdict(set)
        for name in ("validate", "pay", "reopen"):
            for territory in world.territories.values():
                marker = f'action="{reverse(f"reports:statement_{name}", args=[territory.pk])}"'
                if marker in html:
                    found[name].add(territory.name)
        return dict(found)

    assert buttons(world.users["tm_berry"]) == {"validate": {"CC Berry Grand Sud"}}
    assert buttons(world.users["tm_champagne"]) == {"reopen": {"CC de Champagne berrichonne"}}
    assert buttons(world.users["ars"]) == {
        "pay": {"CC de Champagne berrichonne"}, "reopen": {"CC de Champagne berrichonne"}
    }  # fmt: skip
    assert buttons(world.users["national"]) == {}


def test_steps_out_of_order_are_refused_and_change_nothing(api, world):
    berry, loire = world.territories["berry"], world.territories["loire"]
    tm, ars = world.users["tm_berry"], world.users["ars"]

    def post(user, step, body):
        api.force_authenticate(user)
        return api.post(reverse(f"api-report-indemnities-{step}"), body, format="json")

    # Paying a draft, validating what is paid, the current month, a future month, a month
    # without any closed day, sending a paid statement back.
    refusals = [
        post(ars, "pay", {"territory": berry.pk, "month": "2027-02", "reference": "X"}),
        post(world.users["tm_loire"], "validate", {"territory": loire.pk, "month": "2027-02"}),
        post(tm, "validate", {"territory": berry.pk, "month": "2027-03"}),
        post(tm, "validate", {"territory": berry.pk, "month": "2027-05"}),
        post(tm, "validate", {"territory": berry.pk, "month": "2026-06"}),
        post(ars, "reopen", {"territory": loire.pk, "month": "2027-02"}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [
        (409, "invalid_transition")
    ] * 6
    assert not Statement.objects.filter(territory=berry, month__gte=FEB).exists()
    assert Statement.objects.get(territory=loire, month=FEB).status == "paid"

    # The right order through the API: validate, then pay (a reference is required).
    ok = post(tm, "validate", {"territory": berry.pk, "month": "2027-02"})
    again = post(tm, "validate", {"territory": berry.pk, "month": "2027-02"})
    no_reference = post(ars, "pay", {"territory": berry.pk, "month": "2027-02"})
    blank = post(ars, "pay", {"territory": berry.pk, "month": "2027-02", "reference": " "})
    paid = post(ars, "pay", {"territory": berry.pk, "month": "2027-02", "reference": "VIR-9"})
    assert (ok.status_code, ok.json()["status"]) == (200, "validated")
    assert ok.json()["month"] == "2027-02"
    assert ok.json()["validated_by"] == tm.get_full_name()
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert (no_reference.status_code, list(no_reference.json())) == (400, ["reference"])
    assert (blank.status_code, list(blank.json())) == (400, ["reference"])
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    assert paid.json()["payment_reference"] == "VIR-9"


def test_the_national_manager_and_other_managers_may_not_sign(client, api, world):
    champagne = world.territories["champagne"]  # validated in February: payable, reopenable
    berry = world.territories["berry"]  # a draft: to validate
    body = {"month": "2027-02", "reference": "VIR-1"}
    cases = [
        # (user, step, territory, page status, API status)
        (world.users["national"], "validate", berry, 403, 403),
        (world.users["national"], "pay", champagne, 403, 403),
        (world.users["national"], "reopen", champagne, 403, 403),
        (world.users["tm_champagne"], "validate", berry, 404, 404),  # not its territory
        (world.users["tm_champagne"], "pay", champagne, 403, 403),  # a manager does not pay
        (world.users["ars"], "validate", berry, 403, 403),  # the ARS does not validate
        (world.users["ars_south"], "pay", champagne, 404, 404),  # another region
        (member(Role.SECRETARY, site=berry.sites.first()), "validate", berry, 403, 403),
        (UserFactory(is_superuser=True, is_staff=True), "pay", champagne, 403, 403),
    ]
    for user, step, territory, page_status, api_status in cases:
        client.force_login(user)
        page = client.post(reverse(f"reports:statement_{step}", args=[territory.pk]), body)
        api.force_authenticate(user)
        by_api = api.post(
            reverse(f"api-report-indemnities-{step}"),
            {**body, "territory": territory.pk},
            format="json",
        )
        assert (page.status_code, by_api.status_code) == (page_status, api_status), (user, step)
    assert Statement.objects.get(territory=champagne, month=FEB).status == "validated"
    assert not Statement.objects.filter(territory=berry, month=FEB).exists()
    assert not allowed(world.users["national"], "reports.validate_statement", berry)
    assert allowed(world.users["tm_berry"], "reports.validate_statement", berry)


def test_a_day_closed_after_the_validation_holds_the_payment_until_validated_again(
    client, api, world
):
    champagne = world.territories["champagne"]
    site = champagne.sites.first()
    late = VolunteerFactory(user__first_name="Étienne", user__last_name="Retardé")
    open_day(site, date(2027, 2, 26), "day", status="done", volunteer=late,
             indemnity=PAY["day"], consultations_count=8)  # fmt: skip
    statement = Statement.objects.get(territory=champagne, month=FEB)

    client.force_login(world.users["ars"])
    html = client.get(reverse("reports:indemnities"), {"month": "2027-02"}).content.decode()
    rows = re.findall(r'<tr data-territory="(\d+)".*?</tr>', html, flags=re.S)
    flagged = re.findall(r'<tr data-territory="(\d+)"[^>]*>(?:(?!</tr>).)*data-testid="changed"',
                         html, flags=re.S)  # fmt: skip
    assert len(rows) == 3
    assert flagged == [str(champagne.pk)]

    with pytest.raises(DomainError) as refused:
        services.statement_pay(statement=statement, by=world.users["ars"], reference="V")
    assert refused.value.code == "invalid_transition"

    _post(client, world.users["ars"], "statement_reopen", champagne, {"month": "2027-02"})
    _post(client, world.users["tm_champagne"], "statement_validate", champagne,
          {"month": "2027-02"})  # fmt: skip
    paid = _post(client, world.users["ars"], "statement_pay", champagne,
                 {"month": "2027-02", "reference": "VIR-10"})  # fmt: skip
    statement.refresh_from_db()
    assert statement.status == "paid"
    assert statement.validated_amount == sum(
        r["amount"] for r in expected(FEB, {champagne.pk}).values()
    )
    assert [h.status for h in statement.history.order_by("history_id")] == [
        "validated", "draft", "validated", "paid"
    ]  # fmt: skip
    assert [m.level_tag for m in paid.context["messages"]] == ["success"]


def test_a_refusal_on_the_page_is_a_message_and_writes_nothing(client, world):
    berry = world.territories["berry"]
    response = _post(client, world.users["tm_berry"], "statement_validate", berry,
                     {"month": "2027-03"})  # fmt: skip
    no_month = _post(client, world.users["tm_berry"], "statement_validate", berry, {})

    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert [m.level_tag for m in no_month.context["messages"]] == ["error"]
    assert not Statement.objects.filter(territory=berry, month__gte=FEB).exists()


# --- Cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("volunteers", [2, 12])
def test_the_page_api_and_days_list_cost_the_same_queries_whatever_the_data(
    client, api, db, django_assert_num_queries, volunteers
):
    world = build_world(seed=volunteers, volunteers=volunteers, days_each=6 + volunteers)
    ars = world.users["ars"]
    client.force_login(ars)
    api.force_authenticate(ars)
    query = {"month": "2027-02"}

    # session, user, roles (pilot), place (2), children, by place, statements (count, page),
    # territories, statement rows, signatory memberships, volunteers (count, page), totals,
    # the bell, history
    with django_assert_num_queries(17):
        assert client.get(reverse("reports:indemnities"), query).status_code == 200
    # roles, place (2), totals, rows (each request its own user object, as a token's)
    api.force_authenticate(User.objects.get(pk=ars.pk))
    with django_assert_num_queries(5):
        assert api.get(reverse("api-report-indemnities"), query).status_code == 200
    api.force_authenticate(User.objects.get(pk=ars.pk))
    with django_assert_num_queries(5):
        csv_response = api.get(reverse("api-report-indemnities"), {**query, "format": "csv"})
        b"".join(csv_response.streaming_content)
    # session, user, roles, place (2), count, totals, the bell, page
    with django_assert_num_queries(9):
        days = reverse("reports:indemnity_days")
        assert client.get(days, {**query, "statement": "draft"}).status_code == 200


def test_the_openapi_schema_lists_the_report_and_the_steps(client, db):
    schema = client.get(reverse("schema"), {"format": "json"}).json()

    for path in ("", "validate/", "pay/", "reopen/"):
        assert f"/api/v1/reports/indemnities/{path}" in schema["paths"]
    get = schema["paths"]["/api/v1/reports/indemnities/"]["get"]
    assert "month" in {p["name"] for p in get["parameters"]}


def test_the_download_buttons_export_the_month_and_the_place_shown(client, world):
    berry = world.territories["berry"]
    client.force_login(world.users["ars"])
    page = client.get(reverse("reports:indemnities"), {"territory": berry.pk, "month": "2027-01"})

    csv_link = page.context["exports"][0]["url"]
    response = client.get(csv_link)

    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    keys = [c.key for c in VOLUNTEER_COLUMNS]
    shown = {(int(line[keys.index("volunteer")]), berry.pk) for line in lines[1:]}
    assert shown == set(expected(JAN, {berry.pk}))
    assert {line[keys.index("status")] for line in lines[1:]} == {"paid"}


def test_on_a_sites_page_the_statement_shows_its_whole_territory(client, world):
    champagne = world.territories["champagne"]  # validated in February
    site = champagne.sites.first()  # the traveller's; the anchor worked at the other one
    client.force_login(world.users["tm_champagne"])
    html = client.get(
        reverse("reports:indemnities"), {"site": site.pk, "month": "2027-02"}
    ).content.decode()
    tables = Tables(html).tables

    [row] = tables["statements"]["tbody"]
    [place] = tables["report-indemnities_by_place"]["tbody"]
    whole = sum(r["amount"] for r in expected(FEB, {champagne.pk}).values())
    assert place[0]["text"] == site.name
    assert number(place[2]["text"]) < whole  # the site's own days
    assert number(row[2]["text"]) == whole  # what a signature certifies
    assert 'data-testid="changed"' not in html
