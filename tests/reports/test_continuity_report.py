"""The continuity dashboard (`/pilotage/suivi/`) and its report (`/api/v1/reports/continuity/`,
CSV, XLSX): a seeded generator writes exams, tasks and incoming results in every state across
regions, departments, territories and sites; the test computes every figure again from the raw
rows, in plain Python with its own reading of the rules, and compares the page, the API, the
CSV parsed back and the XLSX opened by openpyxl. Every figure's link opens a list holding
exactly the rows it counts, for the pilot who reads it."""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.roles import Role
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from reports import continuity as selector
from reports.periods import Period
from reports.scope import place_for
from sites.models import HostSite
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    open_day,
    track_legs,
)
from tests.reports.test_charts import Page as ChartPage
from vacations.models import PARIS

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 3, 10, 0, tzinfo=PARIS)  # a Wednesday
TODAY = NOW.date()
FEBRUARY = {"from": "2027-02-01", "to": "2027-02-28"}
START, END = date(2027, 2, 1), date(2027, 2, 28)
PAGE = "/pilotage/suivi/"
API = "/api/v1/reports/continuity/"

# The API's figures (API.md § Reports and issue 11 § 3), in the order of the columns.
FIGURES = [
    "exams_awaiting", "exams_overdue", "tasks_open", "tasks_overdue",
    "tasks_escalated_1", "tasks_escalated_2",
    "tasks_age_under_1d", "tasks_age_1_3d", "tasks_age_3_7d", "tasks_age_over_7d",
    "results_in_quarantine", "exams_closed", "exams_closed_leg_missing", "exams_leg_pending",
    "median_hours_result_to_close",
]  # fmt: skip
COUNTS = FIGURES[:-1]
ACTIVE = {"open", "in_progress", "waiting"}
DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


# --- The generator ----------------------------------------------------------------------------

# Territories (name, department); Cher and Loiret are in Centre-Val de Loire (24), Aveyron and
# Haute-Garonne in Occitanie (76).
TERRITORIES = [
    ("Communauté de communes Berry Grand Sud", "18"),
    ("Communauté de communes Cœur de France", "18"),
    ("Communauté de communes Giennoises", "45"),
    ("Communauté de communes Aubrac, Carladez et Viadène", "12"),
    ("Communauté de communes Cœur de Garonne", "31"),
]
# Closures on the edges of February in Paris time (both sides of each midnight).
EDGES = [
    datetime(2027, 1, 31, 23, 59, tzinfo=PARIS),
    datetime(2027, 2, 1, 0, 0, tzinfo=PARIS),
    datetime(2027, 2, 28, 23, 59, tzinfo=PARIS),
    datetime(2027, 3, 1, 0, 0, tzinfo=PARIS),
]
# Task ages on the edges of the buckets (1, 3 and 7 days exactly, and a minute less).
AGES = [timedelta(0), DAY - MINUTE, DAY, 3 * DAY - MINUTE, 3 * DAY, 7 * DAY - MINUTE, 7 * DAY]


class World:
    def __init__(self, seed: int = 7, *, scale: int = 1) -> None:
        rng = random.Random(seed)  # noqa: S311 - a reproducible data set, not security
        self.territories = [
            TerritoryFactory(name=name if scale == 1 else f"{name} {n}", department_id=dept)
            for n in range(scale)
            for name, dept in TERRITORIES
        ]
        prescriber = VolunteerFactory()
        author = UserFactory()
        self.sites = []
        exams, tasks, incoming = [], [], []
        for territory in self.territories:
            for _ in range(rng.randint(1, 3)):
                site = HostSiteFactory(territory=territory)
                self.sites.append(site)
                # One day each (a volunteer's days never overlap: PostgreSQL checks it).
                when = TODAY - (40 + len(self.sites)) * DAY
                day = open_day(site, when, status="done", volunteer=prescriber)
                for _ in range(rng.randint(2, 20)):
                    exams.append(self._exam(rng, day, author, len(exams)))
                tasks.extend(self._task(rng, site) for _ in range(rng.randint(2, 20)))
                incoming.extend(self._incoming(rng, site) for _ in range(rng.randint(0, 4)))
        incoming.append(self._incoming(rng, None))  # no site: counted nowhere
        incoming[-1].outcome, incoming[-1].resolved_at = "quarantined", None
        track_legs(*PendingExam.objects.bulk_create(exams))
        FollowUpTask.objects.bulk_create(tasks)
        IncomingResult.objects.bulk_create(incoming)
        self.home = self.territories[0]
        self.national = member(Role.NATIONAL_MANAGER)
        self.ars = member(Role.ARS_MANAGER, region_id="24")
        self.cpts = member(Role.TERRITORY_MANAGER, territory=self.home)

    @staticmethod
    def _exam(rng, day, author, n) -> PendingExam:
        status = rng.choice(["awaiting", "received", "reviewed", "closed", "cancelled"])
        exam = PendingExam(
            vacation=day, site_id=day.site_id, prescriber_id=day.volunteer_id, created_by=author,
            patient_ref=f"P-{n}", patient_initials="AB", patient_birth_year=1950,
            kind="biology", description="NFS", order_number=f"CMD-{n}",
            ordered_on=TODAY - rng.randint(0, 60) * DAY,
            expected_by=TODAY + rng.randint(-6, 4) * DAY, status=status,
            dmp_deposited=rng.random() < 0.8, sent_to_patient_space=rng.random() < 0.8,
            sent_to_prescriber=rng.random() < 0.8,
        )  # fmt: skip
        if status in ("received", "reviewed", "closed"):
            exam.received_at = NOW - rng.randint(1, 2000) * MINUTE
        if status == "closed":
            exam.closed_at = (
                rng.choice(EDGES)
                if rng.random() < 0.3
                else datetime(2027, 1, 20, 8, 0, tzinfo=PARIS) + rng.randint(0, 5000) * 12 * MINUTE
            )
            # Durations in fifths of an hour: a median is then exact to the tenth.
            exam.received_at = exam.closed_at - rng.randint(1, 400) * 12 * MINUTE
            if rng.random() < 0.05:
                exam.received_at = None  # closed without a recorded arrival: not in the median
            # A treating doctor elsewhere: the liaison letter's leg, pending (`track_legs`).
            exam.treating_doctor_status = rng.choice(["at_site", "none", "elsewhere", "at_site"])
        return exam

    @staticmethod
    def _task(rng, site) -> FollowUpTask:
        age = rng.choice(AGES) if rng.random() < 0.4 else rng.randint(0, 15 * 24 * 60) * MINUTE
        return FollowUpTask(
            site=site, kind="other", title="Relancer",
            status=rng.choice(["open", "in_progress", "waiting", "done", "cancelled"]),
            escalation_level=rng.choice([0, 0, 1, 2]),
            due_at=NOW + (rng.choice([0, -1, 1]) * rng.randint(0, 5 * 24 * 60)) * MINUTE,
            created_at=NOW - age,
            priority=rng.choice(["normal", "urgent"]),
        )  # fmt: skip

    @staticmethod
    def _incoming(rng, site) -> IncomingResult:
        return IncomingResult(
            format="hl7v2", raw=b"MSH|^~\\&|LAB", site=site,
            outcome=rng.choice(["quarantined", "quarantined", "matched", "invalid", "received"]),
            resolved_at=NOW - DAY if rng.random() < 0.3 else None,
            order_number="INCONNU", patient_ref="P",
        )  # fmt: skip


@pytest.fixture
def world():
    return World()


# --- The figures, again, from the raw rows ----------------------------------------------------


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def tenth(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def expected(group_of_site: dict[int, object], start=START, end=END) -> tuple[dict, dict]:
    """{group: {figure: value}} for the sites of `group_of_site` (site pk → its row's key), and
    the totals. Plain Python over every row of the three tables."""
    figures = {key: dict.fromkeys(COUNTS, 0) for key in set(group_of_site.values())}
    hours = defaultdict(list)
    for exam in PendingExam.objects.all():
        if exam.site_id not in group_of_site:
            continue
        row, key = figures[group_of_site[exam.site_id]], group_of_site[exam.site_id]
        if exam.status == "awaiting":
            row["exams_awaiting"] += 1
            row["exams_overdue"] += exam.expected_by < TODAY
        # A leg pending: a false boolean, or the letter to a treating doctor elsewhere unsent.
        legs = (exam.dmp_deposited, exam.sent_to_patient_space, exam.sent_to_prescriber)
        leg_pending = not all(legs) or exam.treating_doctor_status == "elsewhere"
        if exam.status == "closed":
            row["exams_leg_pending"] += leg_pending
        if exam.status == "closed" and start <= paris_day(exam.closed_at) <= end:
            row["exams_closed"] += 1
            row["exams_closed_leg_missing"] += leg_pending
            if exam.received_at is not None:
                hours[key].append((exam.closed_at - exam.received_at).total_seconds() / 3600)
    for task in FollowUpTask.objects.all():
        if task.site_id not in group_of_site or task.status not in ACTIVE:
            continue
        row = figures[group_of_site[task.site_id]]
        row["tasks_open"] += 1
        row["tasks_overdue"] += task.due_at < NOW
        if task.escalation_level:
            row[f"tasks_escalated_{task.escalation_level}"] += 1
        age = NOW - task.created_at
        bucket = (
            "under_1d" if age < DAY else "1_3d" if age < 3 * DAY else "3_7d" if age < 7 * DAY
            else "over_7d"
        )  # fmt: skip
        row[f"tasks_age_{bucket}"] += 1
    for message in IncomingResult.objects.all():
        if message.site_id in group_of_site and message.outcome == "quarantined":
            figures[group_of_site[message.site_id]]["results_in_quarantine"] += (
                message.resolved_at is None
            )
    for key, row in figures.items():
        row["median_hours_result_to_close"] = (
            tenth(statistics.median(hours[key])) if hours[key] else None
        )
    totals = {name: sum(row[name] for row in figures.values()) for name in COUNTS}
    every = [h for key in figures for h in hours[key]]
    totals["median_hours_result_to_close"] = tenth(statistics.median(every)) if every else None
    return figures, totals


def sites_of(*, region=None, territory=None) -> dict[int, dict]:
    rows = HostSite.objects.values(
        "pk", "territory_id", "territory__department_id", "territory__department__region_id"
    )
    return {
        row["pk"]: row
        for row in rows
        if (region is None or row["territory__department__region_id"] == region)
        and (territory is None or row["territory_id"] == territory)
    }


def as_number(value):
    if value in (None, "", "—"):
        return None
    text = str(value).replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    number = Decimal(text)
    return int(number) if number == number.to_integral() and "." not in text else number


def comparable(row: dict) -> dict:
    """A row's figures as numbers (JSON floats, CSV text, page text, XLSX cells alike)."""
    out = {}
    for name in FIGURES:
        value = row[name]
        if name == "median_hours_result_to_close":
            out[name] = None if value in (None, "", "—") else tenth(as_number(value))
        else:
            out[name] = as_number(value)
    return out


# --- The page ---------------------------------------------------------------------------------


class TableParser(HTMLParser):
    """The report table's rows as {"name", "url", "links": {key: href}, key: text}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows, self.totals = [], None
        self._in_table = self._in_foot = False
        self._row = self._cell = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid") == "report-continuity":
            self._in_table = True
        if not self._in_table:
            return
        if tag == "tfoot":
            self._in_foot = True
        elif tag == "tr":
            self._row = {"links": {}}
        elif tag in ("th", "td") and self._row is not None:
            self._cell = attrs.get("data-key") or ("name" if tag == "th" else None)
            self._text = ""
        elif tag == "a" and self._row is not None and self._cell:
            if self._cell == "name":
                self._row["url"] = attrs["href"]
            else:
                self._row["links"][self._cell] = attrs["href"]

    def handle_data(self, data):
        if self._cell:
            self._text += data

    def handle_endtag(self, tag):
        if not self._in_table:
            return
        if tag in ("th", "td") and self._cell and self._row is not None:
            self._row[self._cell] = self._text.strip()
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) > 1 and "exams_awaiting" in self._row:
                if self._in_foot:
                    self.totals = self._row
                else:
                    self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_table = False


def parse_page(response) -> TableParser:
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser


def test_the_national_manager_reads_every_region_and_each_figure_as_counted_from_the_rows(
    client, world
):
    client.force_login(world.national)

    response = client.get(PAGE, FEBRUARY)

    assert response.status_code == 200
    page = parse_page(response)
    by_region = {pk: row["territory__department__region_id"] for pk, row in sites_of().items()}
    figures, totals = expected(by_region)
    assert [row["name"] for row in page.rows] == ["Centre-Val de Loire", "Occitanie"]
    assert {row["name"]: comparable(row) for row in page.rows} == {
        "Centre-Val de Loire": figures["24"],
        "Occitanie": figures["76"],
    }
    assert comparable(page.totals) == totals
    ages = ("under_1d", "1_3d", "3_7d", "over_7d")
    assert sum(totals[f"tasks_age_{age}"] for age in ages) == totals["tasks_open"]
    # The drill-down keeps the period; the rows open the region below.
    assert page.rows[0]["url"] == f"{PAGE}?region=24&from=2027-02-01&to=2027-02-28"
    # The message filed at no site is counted nowhere, not even in France's total.
    quarantined = IncomingResult.objects.filter(outcome="quarantined", resolved_at=None)
    assert quarantined.filter(site=None).exists()
    assert totals["results_in_quarantine"] == quarantined.exclude(site=None).count()


def test_the_ars_manager_drills_down_to_departments_territories_and_a_site(client, world):
    client.force_login(world.ars)
    sites = sites_of(region="24")

    region = parse_page(client.get(PAGE, FEBRUARY))
    department = parse_page(client.get(PAGE, {**FEBRUARY, "department": "18"}))
    territory = parse_page(client.get(PAGE, {**FEBRUARY, "territory": world.home.pk}))
    one_site = world.sites[0]
    site = parse_page(client.get(PAGE, {**FEBRUARY, "site": one_site.pk}))

    by_department, _ = expected({pk: row["territory__department_id"] for pk, row in sites.items()})
    assert {row["name"]: comparable(row) for row in region.rows} == {
        "Cher (18)": by_department["18"],
        "Loiret (45)": by_department["45"],
    }
    in_cher = {pk: row for pk, row in sites.items() if row["territory__department_id"] == "18"}
    by_territory, _ = expected({pk: row["territory_id"] for pk, row in in_cher.items()})
    assert {row["name"]: comparable(row) for row in department.rows} == {
        t.name: by_territory[t.pk] for t in world.territories[:2]
    }
    by_site, home_totals = expected(
        {pk: pk for pk, row in sites.items() if row["territory_id"] == world.home.pk}
    )
    assert {row["name"]: comparable(row) for row in territory.rows} == {
        s.name: by_site[s.pk] for s in world.sites if s.territory_id == world.home.pk
    }
    assert comparable(territory.totals) == home_totals
    assert [comparable(row) for row in site.rows] == [by_site[one_site.pk]]
    assert "url" not in site.rows[0]  # the bottom of the drill-down


def test_the_default_period_is_the_last_four_weeks_and_the_page_says_so(client, world):
    client.force_login(world.national)

    response = client.get(PAGE)

    assert response.context["period"].start == date(2027, 2, 4)
    assert response.context["period"].end == TODAY
    by_region = {pk: row["territory__department__region_id"] for pk, row in sites_of().items()}
    _, totals = expected(by_region, start=date(2027, 2, 4), end=TODAY)
    assert comparable(parse_page(response).totals) == totals
    assert "04/02/2027" in response.content.decode()
    last12 = client.get(PAGE, {"period": "last12"})
    assert last12.context["period"].start == date(2026, 4, 1)


def test_the_ageing_chart_stacks_each_rows_open_tasks_by_age_with_its_table(client, world):
    client.force_login(world.national)

    html = client.get(PAGE, FEBRUARY).content.decode()
    page = ChartPage(html)

    by_region = {pk: row["territory__department__region_id"] for pk, row in sites_of().items()}
    figures, _ = expected(by_region)
    ages = [f"tasks_age_{age}" for age in ("under_1d", "1_3d", "3_7d", "over_7d")]
    bars = [attrs for tag, attrs in page.components if tag == "bar-chart"]
    (bar,) = bars
    assert bar["stacked"] == "true"
    assert json.loads(bar["x"])[0] == ["Centre-Val de Loire", "Occitanie"]
    stacks = json.loads(bar["y"])
    assert [[stack[i] for stack in stacks] for i in range(2)] == [
        [figures[code][key] for key in ages] for code in ("24", "76")
    ]
    # One table only per figure: the chart's data table replaces the former plain table.
    (ageing,) = [t for t in page.tables if t["caption"] == gettext("Ageing of open tasks")]
    assert [row[1:] for row in ageing["rows"][1:]] == [
        [str(figures[code][key]) for key in ages] for code in ("24", "76")
    ]
    assert 'data-testid="ageing-table"' not in html


# --- Every figure opens the list it counts ---------------------------------------------------


def listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


@pytest.mark.parametrize("who", ["national", "ars", "cpts"])
def test_each_figure_links_to_a_list_holding_exactly_the_rows_it_counts(client, world, who):
    user = getattr(world, who)
    client.force_login(user)
    query = {**FEBRUARY, **({"department": "18"} if who != "cpts" else {})}

    page = parse_page(client.get(PAGE, query))

    assert page.rows
    for row in page.rows:
        assert set(row["links"]) == set(FIGURES)
        for name in COUNTS:
            assert listed(client, row["links"][name]) == as_number(row[name]), (row["name"], name)
        assert row["links"]["median_hours_result_to_close"] == row["links"]["exams_closed"]


@pytest.mark.parametrize(("who", "query"), [("national", {}), ("ars", {"department": "18"})])
def test_the_overview_tiles_give_the_backlog_and_open_its_lists(client, world, who, query):
    client.force_login(getattr(world, who))

    response = client.get(reverse("reports:overview"), query)

    department = query.get("department")
    sites = [
        pk
        for pk, row in sites_of().items()
        if department in (None, row["territory__department_id"])
    ]
    _, totals = expected(dict.fromkeys(sites, "place"))
    keys = ("exams_overdue", "tasks_overdue", "results_in_quarantine")
    tiles = {t["name"]: t for t in response.context["topic_tiles"]}
    assert {key: int(tiles[key]["value"]) for key in keys} == {key: totals[key] for key in keys}
    assert all(totals[key] for key in keys)
    for key in keys:
        assert listed(client, tiles[key]["url"]) == totals[key], key


def test_a_narrowed_list_names_its_place_and_keeps_it_in_its_filters(client, world):
    client.force_login(world.ars)
    territory = world.home

    exams = client.get(reverse("continuity_exams"), {"territory": territory.pk, "view": "all"})
    worklist = client.get(reverse("continuity_worklist"), {"territory": territory.pk})

    for response in (exams, worklist):
        html = response.content.decode()
        assert f"Only {territory.name}" in html or territory.name in html
        assert f'<input type="hidden" name="territory" value="{territory.pk}">' in html
    assert {e.site.territory_id for e in exams.context["page_obj"]} == {territory.pk}


# --- The API, the CSV, the XLSX -----------------------------------------------------------


def test_the_api_gives_a_row_per_site_of_the_region_with_its_totals(api, world):
    api.force_authenticate(world.ars)

    body = api.get(API, {**FEBRUARY, "page_size": 200}).json()

    sites = sites_of(region="24")
    figures, totals = expected({pk: pk for pk in sites})
    assert body["count"] == len(sites)
    assert {row["site_id"]: comparable(row) for row in body["results"]} == figures
    assert comparable(body["totals"]) == totals
    assert (body["from"], body["to"]) == ("2027-02-01", "2027-02-28")
    first = next(r for r in body["results"] if r["site_id"] == world.sites[0].pk)
    assert first["site"] == world.sites[0].name
    assert first["territory"] == world.home.name
    assert first["department"] == "Cher (18)"
    assert first["region"] == "Centre-Val de Loire"


def headings_fr() -> list[str]:
    with translation.override("fr"):
        return [str(c.label) for c in selector.API_COLUMNS]


def test_the_csv_parsed_back_keeps_accents_columns_and_figures(api, world):
    api.force_authenticate(world.national)

    response = api.get(API, {**FEBRUARY, "format": "csv", "sep": ";", "territory": world.home.pk})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == headings_fr()
    keys = [c.key for c in selector.API_COLUMNS]
    parsed = [dict(zip(keys, row, strict=True)) for row in rows[1:]]
    sites = {pk: pk for pk, row in sites_of(territory=world.home.pk).items()}
    figures, _ = expected(sites)
    assert {int(row["site_id"]): comparable(row) for row in parsed} == figures
    assert {row["territory"] for row in parsed} == {"Communauté de communes Berry Grand Sud"}
    everywhere = api.get(API, {**FEBRUARY, "format": "csv", "sep": ";"})
    lines = b"".join(everywhere.streaming_content).decode("utf-8-sig").splitlines()
    medians = [line.split(";")[-1] for line in lines[1:]]
    assert any("," in median for median in medians)  # decimal commas with `;`
    assert not any("." in median for median in medians)


def test_the_xlsx_holds_the_same_rows(api, world):
    from openpyxl import load_workbook

    api.force_authenticate(world.national)

    response = api.get(API, {**FEBRUARY, "format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    keys = [c.key for c in selector.API_COLUMNS]
    assert list(rows[0]) == headings_fr()
    # A trailing empty cell (no median) is not stored: pad the row to the columns.
    parsed = [
        dict(zip(keys, (*row, *[None] * (len(keys) - len(row))), strict=True)) for row in rows[1:]
    ]
    figures, _ = expected({pk: pk for pk in sites_of()})
    assert {row["site_id"]: comparable(row) for row in parsed} == figures
    assert len(parsed) == HostSite.objects.count()


def test_a_bad_period_is_a_400_naming_the_field(api, world):
    api.force_authenticate(world.national)

    response = api.get(API, {"from": "2027-02-30"})
    backwards = api.get(API, {"from": "2027-03-01", "to": "2027-02-01"})

    assert response.status_code == 400
    assert "from" in response.json()
    assert backwards.status_code == 400
    assert "to" in backwards.json()


# --- Scope ------------------------------------------------------------------------------------


def test_a_territory_manager_gets_404_on_another_territory_page_api_and_exports(client, api, world):
    other = world.territories[1]  # same department, not its own
    client.force_login(world.cpts)
    api.force_authenticate(world.cpts)

    assert client.get(PAGE, {"territory": other.pk}).status_code == 404
    assert client.get(PAGE, {"region": "76"}).status_code == 404
    assert api.get(API, {"territory": other.pk}).status_code == 404
    assert api.get(API, {"territory": other.pk, "format": "csv"}).status_code == 404
    assert api.get(API, {"territory": other.pk, "format": "xlsx"}).status_code == 404
    assert api.get(API, {"site": world.sites[-1].pk}).status_code == 404
    own = api.get(API, {"territory": world.home.pk}).json()
    assert {r["site_id"] for r in own["results"]} == set(sites_of(territory=world.home.pk))


def test_people_who_do_not_pilot_are_refused(client, api, world):
    nurse = member(Role.COURSE_NURSE, site=world.sites[0])
    client.force_login(nurse)
    api.force_authenticate(nurse)

    assert client.get(PAGE).status_code == 403
    assert api.get(API).status_code == 403


def test_the_schema_lists_the_report(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    spec = schema.json()
    assert "/api/v1/reports/continuity/" in spec["paths"]
    components = spec["components"]["schemas"]
    row = components["ContinuityReportRow"]["properties"]
    assert set(FIGURES) <= set(row)
    assert row["site_id"]["type"] == "integer"
    assert row["median_hours_result_to_close"]["nullable"] is True  # none closed, no median
    assert not components["ContinuityReportTotals"].get("required")  # figures only


# --- The median, in the database -------------------------------------------------------------


def closed_exam(day, n: int, hours: float, *, closed_at=None):
    closed_at = closed_at or datetime(2027, 2, 10, 12, 0, tzinfo=PARIS)
    return PendingExam(
        vacation=day, site_id=day.site_id, prescriber_id=day.volunteer_id,
        created_by=day.volunteer.user, patient_ref=f"M-{n}", patient_initials="AB",
        patient_birth_year=1950, kind="ecg", description="ECG", order_number=f"MED-{n}",
        ordered_on=date(2027, 2, 1), expected_by=date(2027, 2, 5), status="closed",
        received_at=closed_at - timedelta(hours=hours), closed_at=closed_at,
    )  # fmt: skip


def test_the_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones(db):
    odd_site, even_site = HostSiteFactory(), HostSiteFactory()
    prescriber = VolunteerFactory()
    odd = open_day(odd_site, date(2027, 2, 1), status="done", volunteer=prescriber)
    even = open_day(even_site, date(2027, 2, 2), status="done", volunteer=prescriber)
    PendingExam.objects.bulk_create(
        [closed_exam(odd, n, h) for n, h in enumerate([50, 1.5, 3, 200, 2])]
        + [closed_exam(even, 10 + n, h) for n, h in enumerate([4, 1, 10, 2.5])]
        # closed outside the period: not in the median
        + [closed_exam(even, 20, 1000, closed_at=datetime(2027, 3, 1, 0, 0, tzinfo=PARIS))]
    )
    national = member(Role.NATIONAL_MANAGER)
    place = place_for(national, {"territory": str(odd_site.territory_id)})
    table = selector.by_site(place_for(national, {}), Period(START, END))

    medians = {row["site_id"]: row["median_hours_result_to_close"] for row in table.rows}
    assert medians == {odd_site.pk: Decimal("3.0"), even_site.pk: Decimal("3.3")}  # (2.5+4)/2
    assert table.totals["median_hours_result_to_close"] == Decimal("3.0")  # of all nine
    assert (
        selector.by_site(place, Period(date(2026, 1, 1), date(2026, 1, 31))).totals[
            "median_hours_result_to_close"
        ]
        is None
    )


@pytest.mark.postgres
def test_on_postgresql_the_median_is_percentile_cont(db):
    site = HostSiteFactory()
    day = open_day(site, date(2027, 2, 1), status="done", volunteer=VolunteerFactory())
    PendingExam.objects.bulk_create([closed_exam(day, n, h) for n, h in enumerate([1, 2, 3, 10])])
    national = member(Role.NATIONAL_MANAGER)
    with CaptureQueriesContext(connection) as queries:
        table = selector.by_site(place_for(national, {}), Period(START, END))

    assert any("PERCENTILE_CONT(0.5) WITHIN GROUP" in q["sql"] for q in queries.captured_queries)
    assert table.rows[0]["median_hours_result_to_close"] == Decimal("2.5")


# --- Queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 4])
def test_the_page_and_the_api_cost_the_same_queries_whatever_the_size(
    client, api, django_assert_num_queries, scale
):
    world = World(seed=scale, scale=scale)
    client.force_login(world.national)
    api.force_authenticate(world.national)
    client.get(PAGE)

    # Page: session, user, roles, the children (regions), exams, tasks, quarantine, medians of
    # the rows, median of the place, the bell. API: roles, the sites, the same five figures.
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get(PAGE, FEBRUARY)
    with django_assert_num_queries(API_QUERIES):
        body = api.get(API, {**FEBRUARY, "page_size": 200}).json()

    assert len(parse_page(page).rows) == 2
    assert body["count"] == len(world.sites)


PAGE_QUERIES = 10
API_QUERIES = 7
