"""Coverage (issue 11 §3): the dashboard, the days behind its figures, the overview and the API
with its CSV and XLSX agree with the figures computed here, in plain Python, from the raw rows
of a generated world (random but seeded: territories with and without population or priority,
sites of every status and need, days of every status and period over fifteen months)."""

from __future__ import annotations

import calendar
import csv
import io
import math
import random
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from html import unescape

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.roles import Role
from reports import coverage
from reports.periods import Period
from reports.scope import place_for
from reports.tables import display
from sites.models import HostSite, Territory
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory
from vacations.models import PARIS, Vacation, slot_bounds

TODAY = date(2027, 3, 10)
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=PARIS)
NEXT_4_WEEKS = Period(TODAY, TODAY + timedelta(days=27))
REGION = "24"  # Centre-Val de Loire: the ARS manager's
DEPARTMENTS = ("18", "37", "45")
AWAY = "12"  # Occitanie: outside the ARS manager's region
WEIGHT = {"day": Decimal(1), "am": Decimal("0.5"), "pm": Decimal("0.5")}
STATUSES = [s for s, _label in Vacation.Status.choices]
DAY_KEYS = [
    "days_needed",
    "days_open",
    "days_requested",
    "days_booked",
    "days_done",
    "days_cancelled",
    "days_no_show",
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- The generator ----------------------------------------------------------------------------


def generate(seed: int, *, territories: int = 18, away: int = 3, sites: int = 3, days: int = 30):
    """A seeded world in region 24 (and `away` territories in Occitanie), plus fixed corner
    cases: a priority territory with no site, one whose only booked day is 14 days ahead (one
    day too late), one covered by a day done today, one whose only site is suspended."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible world, not a secret
    volunteers = [VolunteerFactory() for _ in range(10)]
    taken: set[tuple[int, date]] = set()
    made = [
        TerritoryFactory(
            name=f"Communauté de communes n°{seed}-{index} — Cœur de Berry",
            department_id=AWAY if index >= territories else rng.choice(DEPARTMENTS),
            population=rng.choice([None, rng.randint(1500, 90000)]),
            is_priority=rng.random() < 0.6,
        )
        for index in range(territories + away)
    ]
    statuses = ["active", "active", "active", "draft", "suspended"]
    all_sites = [
        HostSiteFactory(
            territory=territory,
            name=f"Maison de santé {territory.pk}-{n} à Saint-Amand-Montrond",
            status=rng.choice(statuses),
            days_wanted_per_month=rng.randint(0, 14),
        )
        for territory in made
        for n in range(rng.randint(0, sites))
    ]
    rows = []

    def day_at(site, day, period, status):
        volunteer = None
        if status not in ("open", "cancelled"):
            free = [v for v in volunteers if (v.pk, day) not in taken]
            if not free:
                return
            volunteer = rng.choice(free)
            taken.add((volunteer.pk, day))
        starts_at, ends_at = slot_bounds(day, period)
        rows.append(
            Vacation(
                site=site,
                date=day,
                period=period,
                status=status,
                volunteer=volunteer,
                starts_at=starts_at,
                ends_at=ends_at,
                consultation_minutes=20,
            )  # fmt: skip
        )

    for site in all_sites:
        for _n in range(rng.randint(0, days)):
            day_at(
                site,
                TODAY + timedelta(days=rng.randint(-400, 60)),
                rng.choice(["day", "am", "pm"]),
                rng.choice(STATUSES),
            )
    # The corner cases of the red lists.
    TerritoryFactory(name="CC sans site", department_id="18", is_priority=True, population=800)
    late = HostSiteFactory(territory=TerritoryFactory(name="CC en retard", department_id="18"))
    day_at(late, TODAY + timedelta(days=14), "day", "booked")
    done = HostSiteFactory(territory=TerritoryFactory(name="CC faite", department_id="45"))
    day_at(done, TODAY, "am", "done")
    suspended = HostSiteFactory(
        territory=TerritoryFactory(name="CC suspendue", department_id="37"), status="suspended"
    )
    day_at(suspended, TODAY + timedelta(days=2), "pm", "booked")
    Vacation.objects.bulk_create(rows)


# --- The figures, computed again from the raw rows ------------------------------------------


def _need(wanted: int, period: Period) -> Decimal:
    share = Fraction(0)
    day = period.start
    while day <= period.end:
        share += Fraction(1, calendar.monthrange(day.year, day.month)[1])
        day += timedelta(days=1)
    return Decimal(math.floor(wanted * share * 2 + Fraction(1, 2))) / 2


def _q(value, places):
    return Decimal(value).quantize(Decimal(places), ROUND_HALF_UP)


KEY_OF = {
    "region": lambda s: s["territory__department__region"],
    "department": lambda s: s["territory__department"],
    "territory": lambda s: s["territory"],
    "site": lambda s: s["pk"],
}


def expected(kind: str, period: Period, *, territories=None, site=None) -> dict:
    """{row key: figures} for rows of `kind`, over the sites of `territories` (or `site`)."""
    scope = Territory.objects.all() if territories is None else territories
    scope = {t["pk"]: t for t in scope.values("pk", "department", "department__region",
                                                "population", "is_priority")}  # fmt: skip
    sites = [
        s
        for s in HostSite.objects.values(
            "pk",
            "territory",
            "territory__department",
            "territory__department__region",
            "status",
            "days_wanted_per_month",
        )  # fmt: skip
        if s["territory"] in scope and (site is None or s["pk"] == site.pk)
    ]
    key_of_site = {s["pk"]: KEY_OF[kind](s) for s in sites}
    rows: dict = defaultdict(lambda: dict.fromkeys(DAY_KEYS, Decimal(0)))
    if kind != "site":  # every territory counts, with a site or not (its population)
        for pk, t in scope.items():
            rows[{"region": t["department__region"], "department": t["department"]}.get(kind, pk)]
    for s in sites:
        row = rows[key_of_site[s["pk"]]]
        if s["status"] == "active":
            row["days_needed"] += _need(s["days_wanted_per_month"], period)
    for v in Vacation.objects.values("site", "date", "period", "status"):
        if v["site"] in key_of_site and period.start <= v["date"] <= period.end:
            rows[key_of_site[v["site"]]][f"days_{v['status']}"] += WEIGHT[v["period"]]
    populations: dict = {}
    for pk, t in scope.items():
        key = {"region": t["department__region"], "department": t["department"]}.get(kind, pk)
        if t["population"] is not None:
            populations[key] = populations.get(key, 0) + t["population"]
    out = {}
    for key, row in rows.items():
        covered = row["days_booked"] + row["days_done"]
        need = row["days_needed"]
        row["fill_rate"] = _q(covered / need, "0.0001") if need else None
        if kind != "site":
            pop = populations.get(key)
            row["population"] = pop
            row["days_per_10000"] = _q(covered * 10000 / pop, "0.01") if pop else None
        out[key] = row
    return out


def expected_red(territories) -> dict[int, tuple[bool, bool]]:
    """{priority territory pk: (no day booked or done in the next 14 days, no active site)}
    for the red ones."""
    soon = {
        v["site__territory"]
        for v in Vacation.objects.values("site__territory", "date", "status")
        if v["status"] in ("booked", "done") and TODAY <= v["date"] < TODAY + timedelta(days=14)
    }
    active = {s.territory_id for s in HostSite.objects.filter(status="active")}
    red = {}
    for t in territories.filter(is_priority=True):
        flags = (t.pk not in soon, t.pk not in active)
        if any(flags):
            red[t.pk] = flags
    return red


def _figures(row: dict) -> dict:
    keys = [*DAY_KEYS, "fill_rate", "population", "days_per_10000"]
    return {k: row[k] for k in keys if k in row}


def _blank(kind: str) -> dict:
    row = dict.fromkeys(DAY_KEYS, Decimal(0))
    row["fill_rate"] = None
    if kind != "site":
        row.update(population=None, days_per_10000=None)
    return row


def _with_empty(kind, keys, figures):
    """Children without any figure are rows too (zeros)."""
    return {key: {**_blank(kind), **figures.get(key, {})} for key in keys}


# --- The page, read as a user reads it ------------------------------------------------------

_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
_HEAD = re.compile(r'<th scope="row">(.*?)</th>', re.S)
_CELL = re.compile(r'<td data-key="(\w+)"[^>]*>(.*?)</td>', re.S)
_TAGS = re.compile(r"<[^>]+>")


def _text(html: str) -> str:
    return unescape(_TAGS.sub("", html)).strip()


def page_cells(content: bytes) -> dict[str, dict[str, str]]:
    """{row heading: {column key: the text shown}} of the coverage table's body."""
    html = content.decode()
    table = html[html.index('data-testid="report-coverage"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    out = {}
    for row in _ROW.findall(body):
        head = _HEAD.search(row)
        name = _text(re.sub(r'<span class="fr-badge.*?</span>', "", head.group(1), flags=re.S))
        out[name] = {key: _text(value) for key, value in _CELL.findall(row)}
    return out


def shown(figures: dict, columns) -> dict[str, str]:
    with translation.override("fr"):
        return {c.key: display(figures.get(c.key), c.kind) for c in columns if c.key in figures}


# --- Tests ---------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    generate(7)


@pytest.fixture
def ars(db):
    return member(Role.ARS_MANAGER, region_id=REGION)


@pytest.fixture
def national(db):
    return member(Role.NATIONAL_MANAGER)


def _in_region():
    return Territory.objects.filter(department__region=REGION)


@pytest.mark.parametrize(
    "query",
    [{}, {"period": "last12"}, {"from": "2027-01-15", "to": "2027-03-20"}],
    ids=["next-4-weeks", "last-12-months", "dates"],
)
def test_the_region_page_shows_each_department_figures_computed_from_the_raw_rows(
    client, world, ars, query
):
    client.force_login(ars)

    response = client.get(reverse("reports:coverage"), query)

    assert response.status_code == 200
    period = response.context["period"]
    if query.get("period") == "last12":
        assert period == Period(date(2026, 4, 1), TODAY)
    elif query:
        assert period == Period(date(2027, 1, 15), date(2027, 3, 20))
    else:
        assert period == NEXT_4_WEEKS
    table = response.context["table"]
    departments = sorted({t.department_id for t in _in_region()})
    want = _with_empty("department", departments, expected("department", period,
                                                           territories=_in_region()))  # fmt: skip
    assert [row["id"] for row in table.rows] == departments
    # The world is not empty: every status and a rate show up in the period.
    assert all(sum(w[key] for w in want.values()) > 0 for key in DAY_KEYS)
    assert any(w["fill_rate"] for w in want.values())
    assert {row["id"]: _figures(row) for row in table.rows} == want
    # The same figures on the page, as shown (French decimals), each opening its days.
    cells = page_cells(response.content)
    for row in table.rows:
        assert cells[row["name"]] == shown(want[row["id"]], table.visible_columns[1:])
    # The charts: days per week and fill rate per department, each with its data table.
    charts = response.content.decode()
    assert "<line-chart " in charts
    assert "<bar-chart " in charts
    # The total adds the rows up.
    assert table.totals["days_open"] == sum(w["days_open"] for w in want.values())
    assert table.totals["days_needed"] == sum(w["days_needed"] for w in want.values())


def test_every_level_down_to_a_site_counts_its_own_rows(client, world, national):
    client.force_login(national)
    period = NEXT_4_WEEKS

    regions = client.get(reverse("reports:coverage")).context["table"]
    assert {r["id"]: _figures(r) for r in regions.rows} == _with_empty(
        "region", [REGION, "76"], expected("region", period)
    )
    assert [r["name"] for r in regions.rows] == ["Centre-Val de Loire", "Occitanie"]

    department = client.get(regions.rows[0]["url"]).context["table"]  # drill down: region 24
    berry = next(r for r in department.rows if r["id"] == "18")
    territories = client.get(berry["url"]).context
    in_18 = Territory.objects.filter(department="18")
    assert territories["place"].level == "department"
    assert {r["id"]: _figures(r) for r in territories["table"].rows} == _with_empty(
        "territory", list(in_18.values_list("pk", flat=True)),
        expected("territory", period, territories=in_18),
    )  # fmt: skip
    assert all(
        r["is_priority"] == Territory.objects.get(pk=r["id"]).is_priority
        for r in territories["table"].rows
    )

    territory = Territory.objects.filter(department="18", sites__isnull=False).first()
    sites = client.get(reverse("reports:coverage"), {"territory": territory.pk}).context["table"]
    assert {r["id"]: _figures(r) for r in sites.rows} == _with_empty(
        "site", list(territory.sites.values_list("pk", flat=True)),
        expected("site", period, territories=Territory.objects.filter(pk=territory.pk)),
    )  # fmt: skip

    site = territory.sites.first()
    response = client.get(reverse("reports:coverage"), {"site": site.pk, "period": "last12"})
    own = response.context["table"]
    last12 = response.context["period"]
    assert [r["id"] for r in own.rows] == [site.pk]
    assert _figures(own.rows[0]) == {
        **_blank("site"),
        **expected("site", last12, territories=Territory.objects.all(), site=site).get(site.pk, {}),
    }
    # The site's own days over the period, listed under its row.
    listed = response.context["days_page"].paginator.count
    assert (
        listed
        == Vacation.objects.filter(site=site, date__gte=last12.start, date__lte=last12.end).count()
    )


def test_the_red_priority_territories_come_first_and_their_rows_carry_an_alert(client, world, ars):
    client.force_login(ars)
    in_18 = Territory.objects.filter(department="18")

    response = client.get(reverse("reports:coverage"), {"department": "18"})

    red = expected_red(in_18)
    lists = response.context["red"]
    assert {r.territory.pk for r in lists.no_booked_day} == {k for k, f in red.items() if f[0]}
    assert {r.territory.pk for r in lists.no_active_site} == {k for k, f in red.items() if f[1]}
    names = {t.name: t.pk for t in in_18}
    assert names["CC sans site"] in {r.territory.pk for r in lists.no_active_site}
    assert names["CC en retard"] in {r.territory.pk for r in lists.no_booked_day}
    html = response.content.decode()
    assert html.index('data-testid="red-lists"') < html.index('data-testid="report-coverage"')
    for row in response.context["table"].rows:
        if row["id"] in red:
            no_booked, no_site = red[row["id"]]
            with translation.override("fr"):  # the page speaks French
                no_day, no_active = (
                    gettext("No day booked in the next 14 days"),
                    gettext("No active site"),
                )
            assert (no_day in row["alert"]) is no_booked
            assert (no_active in row["alert"]) is no_site
        else:
            assert row["alert"] == ""
    # Elsewhere: the day done today covers, a suspended site's booked day covers but the
    # territory has no active site.
    region = client.get(reverse("reports:coverage"), {"region": REGION}).context["red"]
    flags = {r.territory.name: (r.no_booked_day, r.no_active_site) for r in region.territories}
    assert "CC faite" not in flags
    assert flags["CC suspendue"] == (False, True)
    # A department's row counts its red priority territories.
    rows = {r["id"]: r for r in client.get(reverse("reports:coverage")).context["table"].rows}
    assert rows["18"]["alert"].endswith(f": {len(red)}")


def test_each_figure_opens_the_days_it_counts(client, world, ars):
    client.force_login(ars)
    table = client.get(reverse("reports:coverage"), {"period": "last12"}).context["table"]

    for row in table.rows:
        for key in ("days_open", "days_booked", "days_done", "days_no_show", "fill_rate"):
            response = client.get(row["links"][key])
            assert response.status_code == 200
            covered = row["days_booked"] + row["days_done"]
            assert response.context["total"] == (covered if key == "fill_rate" else row[key])
        assert client.get(row["url"]).status_code == 200
        assert client.get(row["links"]["days_needed"]).status_code == 200
    # The list itself: the place's days of the statuses asked, within the dates, paginated.
    response = client.get(
        reverse("reports:coverage_days"),
        {
            "department": "45",
            "status": ["booked", "done"],
            "from": "2026-06-01",
            "to": "2027-05-09",
        },  # fmt: skip
    )
    want = Vacation.objects.filter(
        site__territory__department="45",
        status__in=["booked", "done"],
        date__gte=date(2026, 6, 1),
        date__lte=date(2027, 5, 9),
    )
    assert response.context["days_page"].paginator.count == want.count()
    assert response.context["total"] == sum(WEIGHT[v.period] for v in want)
    assert {d.pk for d in response.context["days_page"]} <= set(want.values_list("pk", flat=True))
    first = response.context["days_page"][0]
    assert reverse("vacation_detail", args=[first.pk]) in response.content.decode()


def test_the_api_lists_every_territory_with_the_same_figures(api, world, national, ars):
    api.force_authenticate(national)

    body = api.get(reverse("api-report-coverage"), {"page_size": 200}).json()

    want = expected("territory", NEXT_4_WEEKS)
    territories = Territory.objects.order_by("name", "pk")
    assert body["count"] == territories.count()
    assert (body["from"], body["to"]) == ("2027-03-10", "2027-04-06")
    assert [r["id"] for r in body["results"]] == [t.pk for t in territories]
    red = expected_red(Territory.objects.all())
    for row, territory in zip(body["results"], territories, strict=True):
        figures = {**_blank("territory"), **want.get(territory.pk, {})}
        assert row == {
            "id": territory.pk,
            "name": territory.name,
            "department": territory.department_id,
            "is_priority": territory.is_priority,
            "population": territory.population,
            **{k: float(figures[k]) for k in DAY_KEYS},
            "fill_rate": None if figures["fill_rate"] is None else float(figures["fill_rate"]),
            "days_per_10000": None
            if figures["days_per_10000"] is None
            else float(figures["days_per_10000"]),
            "alert": row["alert"],
        }
        assert bool(row["alert"]) is (territory.pk in red)
    assert body["totals"]["days_booked"] == float(sum(w["days_booked"] for w in want.values()))

    # An ARS manager's rows: its region's territories only, over the dates asked.
    api.force_authenticate(ars)
    body = api.get(
        reverse("api-report-coverage"), {"from": "2026-12-01", "to": "2027-02-28"}
    ).json()
    period = Period(date(2026, 12, 1), date(2027, 2, 28))
    want = expected("territory", period, territories=_in_region())
    assert body["count"] == _in_region().count()
    for row in body["results"]:
        assert row["days_needed"] == float(want.get(row["id"], _blank("territory"))["days_needed"])
        assert row["days_done"] == float(want.get(row["id"], _blank("territory"))["days_done"])

    bad = api.get(reverse("api-report-coverage"), {"from": "2027-03-10", "to": "2027-03-01"})
    assert bad.status_code == 400
    assert "to" in bad.json()


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _number(cell: str):
    return None if cell == "" else Decimal(cell.replace(",", "."))


def test_the_csv_and_the_xlsx_hold_the_same_rows_as_the_api(api, world, ars):
    api.force_authenticate(ars)
    query = {"from": "2027-02-01", "to": "2027-03-31"}
    period = Period(date(2027, 2, 1), date(2027, 3, 31))
    want = expected("territory", period, territories=_in_region())
    territories = list(_in_region().order_by("name", "pk"))
    with translation.override("fr"):
        headings = [str(c.label) for c in coverage.API_COLUMNS]
    assert "Département" in headings

    response = api.get(reverse("api-report-coverage"), {**query, "format": "csv", "sep": ";"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "releve-coverage-region-24-2027-02-01-2027-03-31.csv" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == headings
    assert [r[1] for r in rows[1:]] == [t.name for t in territories]  # accents kept
    assert any("Cœur de Berry" in row[1] for row in rows[1:])
    keys = [c.key for c in coverage.API_COLUMNS]
    for line, territory in zip(rows[1:], territories, strict=True):
        cells = dict(zip(keys, line, strict=True))
        figures = {**_blank("territory"), **want.get(territory.pk, {})}
        assert cells["is_priority"] == ("oui" if territory.is_priority else "non")
        for key in [*DAY_KEYS, "fill_rate", "days_per_10000"]:
            assert _number(cells[key]) == figures[key], (territory.name, key)

    response = api.get(reverse("api-report-coverage"), {**query, "format": "xlsx"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    lines = list(sheet.values)
    assert list(lines[0]) == headings
    assert [line[1] for line in lines[1:]] == [t.name for t in territories]
    for line, territory in zip(lines[1:], territories, strict=True):
        cells = dict(zip(keys, line, strict=True))
        figures = {**_blank("territory"), **want.get(territory.pk, {})}
        for key in [*DAY_KEYS, "fill_rate", "days_per_10000"]:
            value = figures[key]
            assert cells[key] == (None if value is None else pytest.approx(float(value)))


def test_the_overview_tiles_and_map_come_from_the_same_figures(client, world, ars):
    client.force_login(ars)

    response = client.get(reverse("reports:overview"))

    assert response.status_code == 200
    want = expected("region", NEXT_4_WEEKS, territories=_in_region())[REGION]
    red = expected_red(_in_region())
    tiles = {t["name"]: t for t in response.context["tiles"]}
    with translation.override("fr"):
        assert tiles["days_needed"]["value"] == display(want["days_needed"], "decimal")
        covered = want["days_booked"] + want["days_done"]
        assert tiles["days_covered"]["value"] == display(covered, "decimal")
        assert tiles["fill_rate"]["value"] == display(want["fill_rate"], "percent")
        assert tiles["red_territories"]["value"] == display(len(red), "int")
    for tile in tiles.values():
        assert client.get(tile["url"]).status_code == 200
    assert client.get(tiles["days_covered"]["url"]).context["total"] == covered
    # The map: per department, the share of its priority territories with a day booked or
    # done in the next 14 days; each department opens its coverage.
    priority = _in_region().filter(is_priority=True)
    shares = {}
    for department in {t.department_id for t in priority}:
        mine = priority.filter(department=department)
        covered_soon = sum(1 for t in mine if t.pk not in red or not red[t.pk][0])
        shares[department] = _q(Decimal(covered_soon) * 100 / mine.count(), "0.1")
    assert response.context["map"].departments == shares
    assert response.context["map_region"] == REGION
    for url in response.context["map_links"].values():
        assert client.get(url).status_code == 200
    # Drawn by the DSFR map of the region, with its data table (each department a link).
    html = response.content.decode()
    assert "<map-chart-reg " in html
    assert 'region="CVL"' in html
    table = html[html.index('data-testid="map-table"') :]
    for code, url in response.context["map_links"].items():
        assert f'data-code="{code}"' in table
        assert f'href="{url}"' in table.replace("&amp;", "&")


def test_the_charts_data_counts_days_booked_or_done_per_week_and_child(world, ars):
    place = place_for(ars, {"department": "18"})
    period = Period(date(2027, 1, 6), date(2027, 3, 20))

    weekly = coverage.weekly_days(place, period)

    assert weekly.weeks[0] == date(2027, 1, 4)
    assert weekly.weeks[-1] == date(2027, 3, 15)
    names = {t.pk: t.name for t in Territory.objects.filter(department="18")}
    want = {name: [Decimal(0)] * len(weekly.weeks) for name in names.values()}
    for v in Vacation.objects.filter(site__territory__department="18").values(
        "site__territory", "date", "period", "status"
    ):
        if v["status"] in ("booked", "done") and period.start <= v["date"] <= period.end:
            week = (v["date"] - date(2027, 1, 4)).days // 7
            want[names[v["site__territory"]]][week] += WEIGHT[v["period"]]
    assert weekly.series == want
    table = coverage.coverage_table(place, period)
    bars = coverage.fill_rate_chart(table)
    assert bars["labels"] == [r["name"] for r in table.rows]
    (values,) = bars["series"].values()
    assert values == [None if r["fill_rate"] is None else r["fill_rate"] * 100 for r in table.rows]


def test_the_need_is_prorated_over_the_months_of_the_period(db):
    def need(wanted, start, end):
        site = HostSiteFactory(days_wanted_per_month=wanted)
        place = place_for(member(Role.TERRITORY_MANAGER, territory=site.territory), {})
        return coverage.coverage_table(place, Period(start, end)).totals["days_needed"]

    assert need(10, date(2027, 3, 1), date(2027, 3, 31)) == 10  # a whole month
    assert need(10, date(2027, 3, 1), date(2027, 3, 28)) == 9  # 9.03
    assert need(1, date(2027, 2, 1), date(2027, 2, 7)) == Decimal("0.5")  # 0.25: halves up
    assert need(3, date(2027, 2, 1), date(2027, 2, 7)) == 1  # 0.75 → 1
    assert need(62, date(2026, 1, 1), date(2027, 12, 31)) == 62 * 24  # two years, no overflow
    # 15 days of a 30-day month and 16 of a 31-day one: 7 × (0.5 + 0.516…) = 7.11 → 7
    assert need(7, date(2027, 4, 16), date(2027, 5, 16)) == 7
    draft = HostSiteFactory(days_wanted_per_month=10, status="draft")
    place = place_for(member(Role.TERRITORY_MANAGER, territory=draft.territory), {})
    table = coverage.coverage_table(place, Period(date(2027, 3, 1), date(2027, 3, 31)))
    assert table.totals["days_needed"] == 0  # a draft site needs nothing yet
    assert table.totals["fill_rate"] is None


def test_a_territory_manager_gets_404_on_another_territory(client, api, world):
    mine, other = Territory.objects.filter(department__region=REGION)[:2]
    manager = member(Role.TERRITORY_MANAGER, territory=mine)
    client.force_login(manager)
    api.force_authenticate(manager)
    site = HostSiteFactory(territory=other)

    for params in ({"territory": other.pk}, {"site": site.pk}, {"department": AWAY}):
        for name in ("reports:coverage", "reports:coverage_days", "reports:overview"):
            assert client.get(reverse(name), params).status_code == 404, (name, params)
        for fmt in ("json", "csv", "xlsx"):
            answer = api.get(reverse("api-report-coverage"), {**params, "format": fmt})
            assert answer.status_code == 404, (params, fmt)
    # Its own territory answers, and only its own rows.
    body = api.get(reverse("api-report-coverage"), {"territory": mine.pk}).json()
    assert [r["id"] for r in body["results"]] == [mine.pk]
    assert client.get(reverse("reports:coverage"), {"territory": mine.pk}).status_code == 200


def test_staff_and_volunteers_are_refused(client, api, world):
    site = HostSite.objects.first()
    for user in (member(Role.SECRETARY, site=site), member(Role.VOLUNTEER)):
        client.force_login(user)
        api.force_authenticate(user)
        assert client.get(reverse("reports:coverage")).status_code == 403
        assert client.get(reverse("reports:overview")).status_code == 403
        assert api.get(reverse("api-report-coverage")).status_code == 403


def test_the_openapi_schema_lists_the_coverage_report(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/reports/coverage/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "region", "department", "territory", "site", "format", "sep"} <= names
    row = schema["components"]["schemas"]["CoverageReportRow"]["properties"]
    assert row["id"]["type"] == "integer"
    assert row["days_per_10000"]["nullable"] is True  # no population, no rate
    assert row["fill_rate"]["nullable"] is True


def test_the_old_coverage_grid_still_answers_and_leads_to_the_dashboard(client, world, ars):
    client.force_login(ars)

    response = client.get(reverse("coverage"))

    assert response.status_code == 200
    assert reverse("reports:coverage") in response.content.decode()


# --- Query counts: the same for a small and a large world ------------------------------------


def _counted(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


PAGES = {
    "overview": (lambda: reverse("reports:overview"), {}),
    "overview-national": (lambda: reverse("reports:overview"), {}),
    "coverage-region": (lambda: reverse("reports:coverage"), {"period": "last12"}),
    "coverage-department": (lambda: reverse("reports:coverage"), {"department": "18"}),
    "coverage-territory": (lambda: reverse("reports:coverage"), {"territory": "first"}),
    "coverage-site": (lambda: reverse("reports:coverage"), {"site": "first"}),
    "days": (lambda: reverse("reports:coverage_days"), {"status": ["booked", "done"]}),
    "api": (lambda: reverse("api-report-coverage"), {"period": "last12"}),
    "api-csv": (lambda: reverse("api-report-coverage"), {"format": "csv"}),
    "api-xlsx": (lambda: reverse("api-report-coverage"), {"format": "xlsx"}),
}


def _params(params):
    territory = Territory.objects.get(name="CC en retard")  # a site with a day in 4 weeks
    first = {"territory": territory.pk, "site": territory.sites.get().pk}
    return {k: first[k] if v == "first" else v for k, v in params.items()}


@pytest.mark.parametrize("name", PAGES)
def test_each_page_costs_the_same_queries_for_a_small_and_a_large_world(db, client, name):
    url, params = PAGES[name]
    counts = []
    for size in (1, 4):
        with transaction_rolled_back():
            generate(size, territories=3 * size * size, away=size, sites=size, days=5 * size)
            if name.endswith("national"):
                user = member(Role.NATIONAL_MANAGER)
            else:
                user = member(Role.ARS_MANAGER, region_id=REGION)
            client.force_login(user)
            counts.append(_counted(client, url(), _params(params)))
    assert counts[0] == counts[1], counts
    assert counts[0] == QUERIES[name], counts


# Every page: session, user, the pilot's roles, the unread messages' bell (API: token or
# session, user, roles); an ARS manager's home place: its span and its territory (2); the place
# named by a parameter: its row (1, a site's with its parents); then the figures, each one
# query whatever the data: the children, the needs, the days, the populations (not at a
# territory), the red lists, the weekly days (page only); the days list: its sum, count, page.
# The overview adds the other topics' tiles: readiness (its sites' figures, the volunteers
# awaiting verification), follow-up (exams, tasks, quarantine), money (last month: 1); its
# map (national or region) the sites as points (1).
QUERIES = {
    "overview": 15,
    "overview-national": 13,
    "coverage-region": 12,
    "coverage-department": 12,
    "coverage-territory": 10,
    "coverage-site": 12,
    "days": 9,
    "api": 10,
    "api-csv": 10,
    "api-xlsx": 10,
}


class transaction_rolled_back:  # noqa: N801 - used as a context manager
    """A savepoint rolled back on exit: each world size starts from an empty database."""

    def __enter__(self):
        from django.db import transaction

        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, *exc):
        from django.db import transaction

        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        return False


def test_the_national_map_is_france_by_department_and_drills_into_regions(client, world, national):
    client.force_login(national)

    response = client.get(reverse("reports:overview"))

    html = response.content.decode()
    assert "<map-chart " in html
    priority = Territory.objects.filter(is_priority=True)
    assert set(response.context["map"].departments) == {t.department_id for t in priority}
    assert response.context["map_links"]["12"] == reverse("reports:overview") + "?region=76"
    drilled = client.get(response.context["map_links"]["18"])
    assert drilled.context["place"].level == "region"
    assert "<map-chart-reg " in drilled.content.decode()


def test_a_period_ending_before_it_starts_is_refused_on_the_page_too(client, ars):
    client.force_login(ars)

    response = client.get(reverse("reports:coverage"), {"from": "2027-03-10", "to": "2027-03-01"})

    assert response.status_code == 200
    assert response.context["period"] == NEXT_4_WEEKS  # the default, said so
    assert 'id="period-to-error"' in response.content.decode()
