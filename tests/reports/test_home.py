"""The home page of each role: what needs *me* today, each item a link (issue 11 § 7).

For each role a small world holds what waits for that user, and what waits for someone else
(another volunteer, another site, another region): the page shows the first and not the
second, every link of its content answers 200 for that user, and the page costs the same
queries for a small world as for a larger one.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from continuity.models import (
    ContactRequest,
    FollowUpTask,
    Handover,
    HandoverRead,
    IncomingResult,
    PendingExam,
)
from reports.home import SHORT_LIST
from sites.models import HostSite
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    make_public_site,
    make_sheet,
    open_day,
)
from vacations.models import PARIS, DayPreparation

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=PARIS)  # a Monday
TODAY = NOW.date()
SIZES = [1, SHORT_LIST + 2]  # within a short list, and beyond it


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Reading the page -------------------------------------------------------------------------


@dataclass
class Home:
    roles: list[str] = field(default_factory=list)
    tiles: dict[str, Decimal] = field(default_factory=dict)  # "role.key" -> count
    lists: dict[str, list[int]] = field(default_factory=dict)  # "role.key" -> row pks
    empty: set[str] = field(default_factory=set)  # "role.key" of the lists said empty
    hrefs: list[str] = field(default_factory=list)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self, home: Home) -> None:
        super().__init__()
        self.home, self.role, self.list = home, "", ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-role" in a:
            self.role = a["data-role"]
            self.home.roles.append(self.role)
        if "data-tile" in a:
            self.home.tiles[f"{self.role}.{a['data-tile']}"] = Decimal(a["data-count"])
        if "data-list" in a:
            self.list = f"{self.role}.{a['data-list']}"
            self.home.lists[self.list] = []
        if "data-row" in a:
            self.home.lists[self.list].append(int(a["data-row"]))
        if a.get("data-testid") == "empty":
            self.home.empty.add(self.list)
        if tag == "a":
            self.home.hrefs.append(a["href"])


def read_home(response) -> Home:
    """The page's own content: from the home block to the end of <main>."""
    assert response.status_code == 200
    page = response.content.decode()
    content = page[page.index('data-testid="home"') : page.index("</main>")]
    home = Home(text=html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))))
    _Reader(home).feed("<div " + content)
    return home


def get_home(client, user) -> Home:
    client.force_login(user)
    return read_home(client.get(reverse("home")))


def assert_every_link_answers(client, home: Home) -> None:
    assert home.hrefs
    for href in dict.fromkeys(home.hrefs):
        response = client.get(href.split("#")[0])
        assert response.status_code == 200, href


# --- Building worlds --------------------------------------------------------------------------

_orders = iter(range(1, 1_000_000))


def exam_on(day, **fields) -> PendingExam:
    return PendingExam.objects.create(
        vacation=day,
        site=day.site,
        prescriber=day.volunteer,
        patient_ref="MSP-00421",
        patient_initials="JD",
        patient_birth_year=1958,
        kind="biology",
        description="Ionogramme",
        order_number=f"CMD-{next(_orders)}",
        ordered_on=day.date,
        expected_by=day.date + timedelta(days=3),
        created_by=day.volunteer.user,
        **fields,
    )


def task_at(site, *, due_at, **fields) -> FollowUpTask:
    fields.setdefault("kind", FollowUpTask.Kind.REVIEW_RESULT)
    return FollowUpTask.objects.create(
        site=site, title="Review a biology result (MSP-00421)", due_at=due_at, **fields
    )


def quarantined_at(site, *, received_at=NOW - timedelta(hours=2)) -> IncomingResult:
    return IncomingResult.objects.create(
        format=IncomingResult.Format.HL7V2,
        raw=b"MSH|...",
        site=site,
        outcome=IncomingResult.Outcome.QUARANTINED,
        reason=IncomingResult.Reason.UNKNOWN_ORDER,
        received_at=received_at,
    )


def handover_of(day, *, author, created_at=NOW - timedelta(days=1)) -> Handover:
    return Handover.objects.create(vacation=day, author=author, text="RAS", created_at=created_at)


# --- Volunteer --------------------------------------------------------------------------------


@dataclass
class VolunteerWorld:
    user: object
    volunteer: object
    upcoming: list
    requested: list
    to_close: list
    questions: list
    others: list  # another volunteer's days, another volunteer's question


def volunteer_world(size: int) -> VolunteerWorld:
    site = make_public_site(name="MSP de Châteaumeillant", city="Châteaumeillant")
    nurse = member(Role.COURSE_NURSE, site=site)
    volunteer = VolunteerFactory(territories=[site.territory])
    upcoming = [
        open_day(site, TODAY + timedelta(days=1 + i), status="booked", volunteer=volunteer)
        for i in range(size)
    ]
    DayPreparation.objects.create(vacation=upcoming[0], arrival_time=time(7, 45))
    requested = [
        open_day(site, date(2027, 4, 1) + timedelta(days=i), status="requested",
                 volunteer=volunteer)
        for i in range(size)
    ]  # fmt: skip
    to_close = [
        open_day(site, date(2027, 2, 1) + timedelta(days=i), status="booked", volunteer=volunteer)
        for i in range(size)
    ]
    done = [
        open_day(site, date(2027, 3, 1) + timedelta(days=i), status="done", volunteer=volunteer,
                 indemnity=Decimal("200"), consultations_count=12)
        for i in range(size)
    ]  # fmt: skip
    questions = []
    for day in done:
        task = task_at(site, due_at=NOW + timedelta(days=1), exam=exam_on(day), assignee=nurse)
        questions.append(
            ContactRequest.objects.create(
                task=task,
                volunteer=volunteer,
                asked_by=nurse,
                question="Which dose?",
                asked_at=NOW - timedelta(hours=3),
                due_at=NOW + timedelta(days=2),
            )  # fmt: skip
        )
    other = VolunteerFactory()
    other_day = open_day(site, TODAY + timedelta(days=1), status="booked", volunteer=other)
    other_done = open_day(site, date(2027, 3, 2), status="done", volunteer=other)
    other_question = ContactRequest.objects.create(
        task=task_at(site, due_at=NOW, exam=exam_on(other_done)), volunteer=other,
        asked_by=nurse, question="?", asked_at=NOW, due_at=NOW + timedelta(days=2),
    )  # fmt: skip
    return VolunteerWorld(
        volunteer.user, volunteer, upcoming, requested, to_close, questions,
        [other_day, other_question],
    )  # fmt: skip


def pks(objects) -> list[int]:
    return [obj.pk for obj in objects]


def test_a_volunteer_sees_its_days_its_questions_its_statement_and_its_calendar(client, db):
    world = volunteer_world(2)

    home = get_home(client, world.user)

    assert home.roles == ["volunteer"]
    assert home.tiles == {
        "volunteer.upcoming": 2,
        "volunteer.requested": 2,
        "volunteer.to_close": 2,
        "volunteer.questions": 2,
        "volunteer.statement": 2,  # two days done this month
    }
    assert home.lists["volunteer.next_days"] == pks(world.upcoming)
    assert home.lists["volunteer.requests"] == pks(world.requested)
    assert home.lists["volunteer.to_close"] == pks(world.to_close)
    assert sorted(home.lists["volunteer.questions"]) == sorted(pks(world.questions))
    other_day, other_question = world.others
    assert other_day.pk not in home.lists["volunteer.next_days"]
    assert other_question.pk not in home.lists["volunteer.questions"]
    # The next day says when to arrive (the site's time, else the period's usual one) and where.
    assert "07:45" in home.text
    assert "08:30" in home.text
    assert "MSP de Châteaumeillant" in home.text
    assert "400,00" in home.text  # this month's indemnities, in French
    assert f"{reverse('reports:my_statement')}?month=2027-03" in home.hrefs
    calendar = reverse("volunteer_calendar", kwargs={"token": world.volunteer.calendar_token})
    assert calendar in home.hrefs
    assert reverse("continuity_day_closure", args=[world.to_close[0].pk]) in home.hrefs
    assert f"{reverse('continuity_my_followups')}#question-{world.questions[0].pk}" in home.hrefs
    assert_every_link_answers(client, home)


def test_a_volunteer_with_nothing_waiting_is_told_so_in_words(client, db):
    volunteer = VolunteerFactory()

    home = get_home(client, volunteer.user)

    assert home.tiles["volunteer.upcoming"] == 0
    assert home.empty == {
        "volunteer.next_days",
        "volunteer.requests",
        "volunteer.to_close",
        "volunteer.questions",
    }
    assert_every_link_answers(client, home)


def test_a_volunteer_without_a_profile_is_sent_to_create_it(client, volunteer):
    home = get_home(client, volunteer)

    assert home.roles == ["volunteer"]
    assert home.hrefs == [reverse("volunteer_profile")]


# --- Site secretary ---------------------------------------------------------------------------


@dataclass
class SiteWorld:
    user: object
    site: HostSite
    today: list
    next_week: list
    requests: list
    to_close: list
    gaps: list
    elsewhere: list  # the same kinds of things at another site


def secretary_world(size: int, role: str = Role.SECRETARY) -> SiteWorld:
    site = make_public_site(name="MSP de Châteaumeillant", rooms=3)
    user = member(role, site=site)
    elsewhere_site = make_public_site(name="MSP d’ailleurs", territory=TerritoryFactory())
    volunteers = VolunteerFactory.create_batch(size, territories=[site.territory])
    today = [open_day(site, TODAY, status="booked", volunteer=v) for v in volunteers]
    next_week = [open_day(site, TODAY + timedelta(days=1 + i % 7)) for i in range(size)]
    requests = [
        open_day(site, TODAY + timedelta(days=10), status="requested", volunteer=v)
        for v in volunteers
    ]
    to_close = [
        open_day(site, TODAY - timedelta(days=1), status="booked", volunteer=v) for v in volunteers
    ]
    gaps = []
    for i in range(size):
        gap = HostSiteFactory(name=f"Cabinet secondaire {i}", territory=site.territory)
        make_sheet(gap, status="draft")
        member(role, site=gap, user=user)
        gaps.append(gap)
    elsewhere = [
        open_day(elsewhere_site, TODAY),
        open_day(elsewhere_site, TODAY + timedelta(days=10), status="requested",
                 volunteer=VolunteerFactory()),
        open_day(elsewhere_site, TODAY - timedelta(days=1), status="booked",
                 volunteer=VolunteerFactory()),
    ]  # fmt: skip
    make_sheet(HostSiteFactory(territory=site.territory), status="draft")  # not hers
    return SiteWorld(user, site, today, next_week, requests, to_close, gaps, elsewhere)


def test_a_secretary_sees_her_sites_days_requests_days_to_close_and_gaps(client, db):
    world = secretary_world(2)

    home = get_home(client, world.user)

    assert home.roles == ["secretary"]
    assert home.tiles == {
        "secretary.today": 2,
        "secretary.next_week": 2,
        "secretary.requests": 2,
        "secretary.to_close": 2,
        "secretary.gaps": 2,  # the two draft sheets; the published, ready one is complete
    }
    assert home.lists["secretary.today"] == pks(world.today)
    assert home.lists["secretary.next_week"] == pks(world.next_week)
    assert home.lists["secretary.requests"] == pks(world.requests)
    assert home.lists["secretary.to_close"] == pks(world.to_close)
    assert home.lists["secretary.gaps"] == pks(world.gaps)
    shown = {pk for rows in home.lists.values() for pk in rows}
    assert not shown & set(pks(world.elsewhere))
    assert reverse("vacation_detail", args=[world.requests[0].pk]) in home.hrefs
    assert reverse("continuity_day_closure", args=[world.to_close[0].pk]) in home.hrefs
    assert reverse("site_planning", args=[world.site.pk]) in home.hrefs
    assert_every_link_answers(client, home)


def test_a_secretary_of_one_ready_site_with_nothing_to_do_is_told_so(client, secretary, site):
    make_sheet(site, status="published", ready=True)

    home = get_home(client, secretary)

    assert home.tiles["secretary.requests"] == 0
    assert {"secretary.requests", "secretary.gaps", "secretary.to_close"} <= home.empty
    # One site: the tiles open its month, and her sheet.
    assert reverse("site_planning", args=[site.pk]) in home.hrefs
    assert reverse("site_detail", args=[site.pk]) in home.hrefs
    assert_every_link_answers(client, home)


# --- Course nurse -----------------------------------------------------------------------------


@dataclass
class NurseWorld:
    user: object
    overdue: list
    due_today: list
    urgent: list
    quarantined: list
    unread: list
    not_hers: list  # tasks and results elsewhere, a handover read, an old one


def nurse_world(size: int) -> NurseWorld:
    site = make_public_site(name="MSP de Châteaumeillant")
    nurse = member(Role.COURSE_NURSE, site=site)
    elsewhere = make_public_site(territory=TerritoryFactory(department_id="12"))
    overdue = [task_at(site, due_at=NOW - timedelta(hours=1 + i)) for i in range(size)]
    due_today = [task_at(site, due_at=NOW + timedelta(hours=1 + i % 12)) for i in range(size)]
    urgent = [task_at(site, due_at=NOW + timedelta(days=2), priority="urgent") for _ in range(size)]
    task_at(site, due_at=NOW - timedelta(days=1), status="done")
    quarantined = [quarantined_at(site, received_at=NOW - timedelta(hours=i)) for i in range(size)]
    day = open_day(site, TODAY - timedelta(days=1), status="done", volunteer=VolunteerFactory())
    author = day.volunteer.user
    unread = [handover_of(day, author=author, created_at=NOW - timedelta(hours=i))
              for i in range(size)]  # fmt: skip
    read = handover_of(day, author=author)
    HandoverRead.objects.create(handover=read, reader=nurse)
    old = handover_of(day, author=author, created_at=NOW - timedelta(days=45))
    not_hers = [
        task_at(elsewhere, due_at=NOW - timedelta(hours=1)),
        task_at(elsewhere, due_at=NOW, priority="urgent"),
        quarantined_at(elsewhere),
        read,
        old,
    ]
    return NurseWorld(nurse, overdue, due_today, urgent, quarantined, unread, not_hers)


def test_a_course_nurse_sees_tasks_due_urgent_results_quarantine_and_unread_handovers(client, db):
    world = nurse_world(2)

    home = get_home(client, world.user)

    assert home.roles == ["course_nurse"]
    assert home.tiles == {
        "course_nurse.due_today": 2,
        "course_nurse.overdue": 2,
        "course_nurse.urgent": 2,
        "course_nurse.quarantine": 2,
        "course_nurse.handovers": 2,
        "course_nurse.leg_pending": 0,
    }
    # Overdue first (then by deadline): urgent ones would come before them.
    overdue_first = sorted(world.overdue, key=lambda t: t.due_at) + world.due_today
    assert home.lists["course_nurse.due"] == pks(overdue_first)
    assert home.lists["course_nurse.urgent"] == pks(world.urgent)
    assert sorted(home.lists["course_nurse.quarantine"]) == sorted(pks(world.quarantined))
    assert home.lists["course_nurse.handovers"] == pks(world.unread)
    shown = {(key.split(".")[1], pk) for key, rows in home.lists.items() for pk in rows}
    elsewhere_task, elsewhere_urgent, elsewhere_result, read, old = world.not_hers
    assert ("due", elsewhere_task.pk) not in shown
    assert ("urgent", elsewhere_urgent.pk) not in shown
    assert ("quarantine", elsewhere_result.pk) not in shown
    assert ("handovers", read.pk) not in shown
    assert ("handovers", old.pk) not in shown
    # No patient reference on the home page: a task shows its kind, site and deadline.
    assert "MSP-00421" not in home.text
    assert reverse("continuity_task", args=[world.overdue[0].pk]) in home.hrefs
    assert reverse("continuity_handover", args=[world.unread[0].pk]) in home.hrefs
    assert_every_link_answers(client, home)


# --- Managers ---------------------------------------------------------------------------------


@dataclass
class PilotWorld:
    territory: object  # the territory manager's, priority, nothing booked
    covered: object  # same region, priority, a day booked next week
    far: object  # another region, priority, nothing booked
    sheet_here: HostSite
    sheet_far: HostSite
    volunteer_here: object
    task_here: FollowUpTask
    task_far: FollowUpTask
    quarantined_here: IncomingResult


def pilot_world(size: int) -> PilotWorld:
    territory = TerritoryFactory(name="CC Berry Grand Sud", department_id="18")
    covered = TerritoryFactory(name="CC Écueillé-Valençay", department_id="36")
    far = TerritoryFactory(name="CC Aubrac", department_id="12")
    TerritoryFactory(name="CC non prioritaire", department_id="18", is_priority=False)
    site = make_public_site(name="MSP de Châteaumeillant", territory=territory)
    covered_site = make_public_site(territory=covered, days_wanted_per_month=4)
    far_site = make_public_site(territory=far)
    open_day(covered_site, TODAY + timedelta(days=3), status="booked", volunteer=VolunteerFactory())
    open_day(site, TODAY + timedelta(days=20), status="booked", volunteer=VolunteerFactory())
    sheets_here = []
    for i in range(size):
        sheet_site = HostSiteFactory(name=f"Centre de santé {i}", territory=territory)
        make_sheet(sheet_site, status="submitted", submitted_at=NOW - timedelta(days=i))
        sheets_here.append(sheet_site)
    sheet_far = HostSiteFactory(name="Maison de santé de Laguiole", territory=far)
    make_sheet(sheet_far, status="submitted", submitted_at=NOW - timedelta(days=30))
    volunteers = [VolunteerFactory(status="pending", territories=[territory]) for _ in range(size)]
    VolunteerFactory(status="pending", territories=[far])
    tasks = [task_at(site, due_at=NOW - timedelta(hours=1 + i)) for i in range(size)]
    task_at(site, due_at=NOW + timedelta(days=1))  # neither overdue nor escalated
    task_far = task_at(far_site, due_at=NOW + timedelta(days=1), escalation_level=2)
    quarantined = [quarantined_at(site) for _ in range(size)]
    quarantined_at(far_site)
    for n in range(size):  # more priority territories of the region, uncovered
        TerritoryFactory(name=f"CC {n}", department_id="36")
    return PilotWorld(
        territory, covered, far, sheets_here[-1], sheet_far, volunteers[0], tasks[0], task_far,
        quarantined[0],
    )  # fmt: skip


def _pilot_lists(home: Home) -> dict[str, list[int]]:
    return {key.split(".")[1]: rows for key, rows in home.lists.items()}


def test_a_territory_manager_sees_its_territories_tiles_and_queues(client, db):
    world = pilot_world(1)
    manager = member(Role.TERRITORY_MANAGER, territory=world.territory)

    home = get_home(client, manager)

    assert home.roles == ["pilot"]
    assert home.tiles == {
        "pilot.booked": 0,  # the day booked in its territory is 20 days ahead
        "pilot.uncovered": 1,
        "pilot.sheets": 1,
        "pilot.volunteers": 1,
        "pilot.overdue": 1,
        "pilot.escalated": 0,
        "pilot.quarantine": 1,
    }
    lists = _pilot_lists(home)
    assert lists["uncovered"] == [world.territory.pk]
    assert lists["sheets"] == [world.sheet_here.pk]
    assert lists["volunteers"] == [world.volunteer_here.pk]
    assert lists["tasks"] == [world.task_here.pk]
    assert "CC Berry Grand Sud" in home.text
    assert "CC Aubrac" not in home.text
    assert reverse("site_detail", args=[world.sheet_here.pk]) in home.hrefs
    assert reverse("volunteer_detail", args=[world.volunteer_here.pk]) in home.hrefs
    assert f"{reverse('site_list')}?sheet=to_validate" in home.hrefs
    assert_every_link_answers(client, home)


def test_an_ars_manager_sees_its_region_and_its_need(client, db):
    world = pilot_world(1)
    manager = member(Role.ARS_MANAGER, region_id="24")

    home = get_home(client, manager)

    assert home.roles == ["pilot"]
    assert home.tiles["pilot.booked"] == 1  # the day booked next week at the covered territory
    # Its site wants 4 days a month: over the next 14 days (all in March), 4 × 14 / 31 = 1.8,
    # rounded to the nearest half-day as the coverage dashboard does: 2 days.
    assert "2,0" in home.text
    assert "1,8" not in home.text
    assert home.tiles["pilot.uncovered"] == 2  # its territory and one more of the region
    lists = _pilot_lists(home)
    assert world.territory.pk in lists["uncovered"]
    assert world.covered.pk not in lists["uncovered"]
    assert world.far.pk not in lists["uncovered"]
    assert lists["sheets"] == [world.sheet_here.pk]
    assert world.task_far.pk not in lists["tasks"]
    assert_every_link_answers(client, home)


def test_the_managers_booked_and_needed_days_are_the_coverage_dashboards_it_links_to(client, db):
    world = pilot_world(1)
    open_day(
        world.covered.sites.get(),
        TODAY + timedelta(days=5),
        status="done",
        period="am",
        volunteer=VolunteerFactory(),
    )
    open_day(world.covered.sites.get(), TODAY + timedelta(days=6), status="open")
    manager = member(Role.ARS_MANAGER, region_id="24")

    home = get_home(client, manager)

    dashboard = f"{reverse('reports:coverage')}?region=24&from=2027-03-15&to=2027-03-28"
    assert dashboard in home.hrefs
    assert f"{dashboard}#red-lists" in home.hrefs
    table = client.get(dashboard).context["table"]
    covered = table.totals["days_booked"] + table.totals["days_done"]
    assert home.tiles["pilot.booked"] == covered == Decimal("1.5")  # a half-day done counts 0.5
    assert number_in(home.text, table.totals["days_needed"])
    # The territories without a booked day open their own coverage.
    territory = f"{reverse('reports:coverage')}?territory={world.territory.pk}"
    assert any(href.startswith(territory) for href in home.hrefs)
    assert not any(href.startswith(f"{reverse('coverage')}?") for href in home.hrefs)


def number_in(text: str, value: Decimal) -> bool:
    return f"{value:.1f}".replace(".", ",") in text


def test_the_national_manager_sees_every_region(client, db):
    world = pilot_world(1)
    national = member(Role.NATIONAL_MANAGER)

    home = get_home(client, national)

    assert home.roles == ["pilot"]
    lists = _pilot_lists(home)
    assert {world.territory.pk, world.far.pk} <= set(lists["uncovered"])
    assert world.covered.pk not in lists["uncovered"]
    assert home.tiles["pilot.sheets"] == 2
    assert lists["sheets"] == [world.sheet_far.pk, world.sheet_here.pk]  # the oldest first
    assert home.tiles["pilot.escalated"] == 1
    assert lists["tasks"][0] == world.task_far.pk  # escalated to the ARS: at the top
    assert home.tiles["pilot.quarantine"] == 2
    assert_every_link_answers(client, home)


# --- Several roles, none ----------------------------------------------------------------------


def test_a_user_with_several_roles_sees_one_section_per_role(client, db):
    world = secretary_world(1)
    VolunteerFactory(user=world.user)
    member(Role.TERRITORY_MANAGER, territory=world.site.territory, user=world.user)

    home = get_home(client, world.user)

    assert home.roles == ["volunteer", "secretary", "pilot"]


def test_a_user_without_a_role_is_offered_to_volunteer(client, user):
    home = get_home(client, user)

    assert home.roles == []
    assert home.hrefs == [reverse("volunteer_profile")]


def test_visitors_get_the_public_landing_page(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert reverse("catalogue") in response.content.decode()
    assert 'data-testid="home"' not in response.content.decode()


# --- Query counts -----------------------------------------------------------------------------

# session, user, roles (shell), unread messages (the bell), and then each section's own:
VOLUNTEER_QUERIES = 4 + 7
SECRETARY_QUERIES = 4 + 8
NURSE_QUERIES = 4 + 9  # its closed exams with a leg pending: one count
# The managers' section finds their home place first (reports.scope.home_place): its span and
# its territory for a territory or ARS manager (2), nothing for the national manager.
PILOT_QUERIES = {
    Role.TERRITORY_MANAGER: 4 + 12 + 2,
    Role.ARS_MANAGER: 4 + 12 + 2,
    Role.NATIONAL_MANAGER: 4 + 12,
}


def _pilot(role: str, world: PilotWorld):
    if role == Role.TERRITORY_MANAGER:
        return member(role, territory=world.territory)
    if role == Role.ARS_MANAGER:
        return member(role, region_id="24")
    return member(role)


@pytest.mark.parametrize("size", SIZES)
def test_the_volunteer_home_costs_the_same_whatever_the_data(
    client, db, django_assert_num_queries, size
):
    world = volunteer_world(size)
    client.force_login(world.user)

    with django_assert_num_queries(VOLUNTEER_QUERIES):
        home = read_home(client.get(reverse("home")))

    assert home.tiles["volunteer.upcoming"] == size
    assert len(home.lists["volunteer.next_days"]) == min(size, SHORT_LIST)


@pytest.mark.parametrize("size", SIZES)
def test_the_secretary_home_costs_the_same_whatever_the_data(
    client, db, django_assert_num_queries, size
):
    world = secretary_world(size)
    client.force_login(world.user)

    with django_assert_num_queries(SECRETARY_QUERIES):
        home = read_home(client.get(reverse("home")))

    assert home.tiles["secretary.requests"] == size
    assert len(home.lists["secretary.requests"]) == min(size, SHORT_LIST)


@pytest.mark.parametrize("size", SIZES)
def test_the_course_nurse_home_costs_the_same_whatever_the_data(
    client, db, django_assert_num_queries, size
):
    world = nurse_world(size)
    client.force_login(world.user)

    with django_assert_num_queries(NURSE_QUERIES):
        home = read_home(client.get(reverse("home")))

    assert home.tiles["course_nurse.overdue"] == size
    assert len(home.lists["course_nurse.due"]) == min(2 * size, SHORT_LIST)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", [Role.TERRITORY_MANAGER, Role.ARS_MANAGER, Role.NATIONAL_MANAGER])
def test_the_managers_home_costs_the_same_whatever_the_data(
    client, db, django_assert_num_queries, role, size
):
    world = pilot_world(size)
    client.force_login(_pilot(role, world))

    with django_assert_num_queries(PILOT_QUERIES[role]):
        home = read_home(client.get(reverse("home")))

    assert home.tiles["pilot.sheets"] == size + (role == Role.NATIONAL_MANAGER)
    assert len(home.lists["pilot.sheets"]) == min(home.tiles["pilot.sheets"], SHORT_LIST)
