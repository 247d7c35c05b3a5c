"""The follow-up lists a dashboard's figures open: the exam tracker, the worklist and the
quarantine narrowed to a place (`?region=`, `?department=`, `?territory=`, `?site=`), the
worklist by escalation level and by age, the tracker's closed exams (dates, a routing leg not
done) — for the pilots who read them, national manager included, never beyond their scope."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    open_day,
    track_legs,
)
from vacations.models import PARIS

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 3, 10, 0, tzinfo=PARIS)
TODAY = NOW.date()
EXAMS, WORKLIST, QUARANTINE = "/suivi/examens/", "/suivi/", "/suivi/quarantaine/"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def places(db):
    """Two sites in a Cher territory, one in another Cher territory, one in Aveyron."""
    home, neighbour = TerritoryFactory(department_id="18"), TerritoryFactory(department_id="18")
    south = TerritoryFactory(department_id="12")
    sites = {
        "home_a": HostSiteFactory(territory=home, name="MSP Sancoins"),
        "home_b": HostSiteFactory(territory=home, name="MSP Dun-sur-Auron"),
        "neighbour": HostSiteFactory(territory=neighbour, name="MSP Aubigny"),
        "south": HostSiteFactory(territory=south, name="MSP Espalion"),
    }
    prescriber = VolunteerFactory()
    days = {
        key: open_day(site, TODAY - timedelta(days=10 + n), status="done", volunteer=prescriber)
        for n, (key, site) in enumerate(sites.items())
    }
    return {"home": home, "neighbour": neighbour, "south": south, "sites": sites, "days": days}


def exam(day, n, **fields) -> PendingExam:
    values = {
        "vacation": day, "site_id": day.site_id, "prescriber_id": day.volunteer_id,
        "created_by": day.volunteer.user, "patient_ref": f"P-{n}", "patient_initials": "AB",
        "patient_birth_year": 1950, "kind": "biology", "description": "NFS",
        "order_number": f"F-{n}", "ordered_on": TODAY - timedelta(days=9),
        "expected_by": TODAY - timedelta(days=1), **fields,
    }  # fmt: skip
    return PendingExam.objects.create(**values)


def task(site, **fields) -> FollowUpTask:
    values = {"site": site, "kind": "other", "title": "Relancer", "due_at": NOW + timedelta(days=1)}
    return FollowUpTask.objects.create(**{**values, **fields})


def listed(client, url, query) -> set[int]:
    response = client.get(url, query)
    assert response.status_code == 200
    return {row.pk for row in response.context["page_obj"]}


def test_the_exam_tracker_narrows_to_a_territory_department_or_region(client, places):
    days = places["days"]
    mine = [exam(days["home_a"], 1), exam(days["home_b"], 2)]
    near = exam(days["neighbour"], 3)
    far = exam(days["south"], 4)
    client.force_login(member(Role.NATIONAL_MANAGER))

    narrowed = client.get(EXAMS, {"territory": places["home"].pk, "view": "overdue"})

    assert {e.pk for e in narrowed.context["page_obj"]} == {e.pk for e in mine}
    counts = {tab["view"]: tab["count"] for tab in narrowed.context["tabs"]}
    assert counts["overdue"] == 2  # the counts are the place's too
    html = narrowed.content.decode()
    assert places["home"].name in html
    assert f'name="territory" value="{places["home"].pk}"' in html  # kept by the filters
    assert listed(client, EXAMS, {"department": "18", "view": "all"}) == {
        *(e.pk for e in mine),
        near.pk,
    }
    assert listed(client, EXAMS, {"region": "76", "view": "all"}) == {far.pk}
    assert listed(client, EXAMS, {"view": "all"}) == {*(e.pk for e in mine), near.pk, far.pk}


def test_a_narrowing_outside_ones_scope_lists_nothing_and_an_unknown_place_is_a_404(client, places):
    exam(places["days"]["neighbour"], 1)
    task(places["sites"]["neighbour"])
    client.force_login(member(Role.TERRITORY_MANAGER, territory=places["home"]))

    assert listed(client, EXAMS, {"territory": places["neighbour"].pk, "view": "all"}) == set()
    assert listed(client, WORKLIST, {"territory": places["neighbour"].pk}) == set()
    assert client.get(EXAMS, {"territory": 999999}).status_code == 404
    assert client.get(WORKLIST, {"territory": "douze"}).status_code == 404
    assert client.get(WORKLIST, {"region": "ZZ"}).status_code == 404
    assert client.get(QUARANTINE, {"site": places["sites"]["neighbour"].pk}).status_code == 404


def test_the_tracker_lists_the_exams_closed_on_paris_days_and_those_with_a_leg_not_done(
    client, places
):
    day = places["days"]["home_a"]
    done = {"dmp_deposited": True, "sent_to_patient_space": True, "sent_to_prescriber": True}

    def closed(n, at, **legs):
        received = at - timedelta(hours=3)
        fields = {**done, **legs, "status": "closed", "received_at": received, "closed_at": at}
        closed_exam = exam(day, n, **fields)
        track_legs(closed_exam)
        return closed_exam

    before = closed(1, datetime(2027, 1, 31, 23, 59, tzinfo=PARIS))
    first = closed(2, datetime(2027, 2, 1, 0, 0, tzinfo=PARIS), sent_to_prescriber=False)
    last = closed(3, datetime(2027, 2, 28, 23, 59, tzinfo=PARIS))
    after = closed(4, datetime(2027, 3, 1, 0, 0, tzinfo=PARIS), dmp_deposited=False)
    client.force_login(member(Role.ARS_MANAGER, region_id="24"))
    february = {"view": "closed", "closed_from": "2027-02-01", "closed_to": "2027-02-28"}

    response = client.get(EXAMS, february)

    assert [e.pk for e in response.context["page_obj"]] == [last.pk, first.pk]  # latest first
    assert listed(client, EXAMS, {**february, "leg_missing": "on"}) == {first.pk}
    assert listed(client, EXAMS, {"view": "closed"}) == {before.pk, first.pk, last.pk, after.pk}
    assert listed(client, EXAMS, {"view": "closed", "leg_missing": "on"}) == {first.pk, after.pk}
    html = response.content.decode()
    assert html.count('data-testid="leg-missing"') == 1
    assert 'name="closed_from"' in html


def test_the_worklist_filters_by_level_age_and_deadline_within_the_place(client, places):
    home_a, south = places["sites"]["home_a"], places["sites"]["south"]
    ages = {
        "fresh": task(home_a, created_at=NOW - timedelta(hours=23, minutes=59)),
        "one_day": task(home_a, created_at=NOW - timedelta(days=1), escalation_level=1),
        "three_days": task(home_a, created_at=NOW - timedelta(days=3), escalation_level=2),
        "a_week": task(home_a, created_at=NOW - timedelta(days=7), due_at=NOW - timedelta(hours=1)),
    }
    task(home_a, status="done", escalation_level=1, created_at=NOW - timedelta(days=2))
    far = task(south, escalation_level=1, created_at=NOW - timedelta(days=2))
    client.force_login(member(Role.NATIONAL_MANAGER))
    home = {"territory": places["home"].pk}

    assert listed(client, WORKLIST, {**home, "level": 1}) == {ages["one_day"].pk}
    assert listed(client, WORKLIST, {"level": 1}) == {ages["one_day"].pk, far.pk}
    assert listed(client, WORKLIST, {**home, "level": 0}) == {ages["fresh"].pk, ages["a_week"].pk}
    assert listed(client, WORKLIST, {**home, "age": "under_1d"}) == {ages["fresh"].pk}
    assert listed(client, WORKLIST, {**home, "age": "1_3d"}) == {ages["one_day"].pk}
    assert listed(client, WORKLIST, {**home, "age": "3_7d"}) == {ages["three_days"].pk}
    assert listed(client, WORKLIST, {**home, "age": "over_7d"}) == {ages["a_week"].pk}
    assert listed(client, WORKLIST, {**home, "overdue": "on"}) == {ages["a_week"].pk}
    narrowed = client.get(WORKLIST, home)
    assert narrowed.context["counts"] == {"active": 4, "overdue": 1, "urgent": 0}
    assert narrowed.context["filtered"]


def test_the_quarantine_narrows_to_a_site_or_a_territory(client, places):
    sites = places["sites"]

    def quarantined(site, **fields):
        return IncomingResult.objects.create(
            format="hl7v2", raw=b"MSH", site=site, outcome="quarantined",
            reason="unknown_order", order_number="X", **fields,
        )  # fmt: skip

    a, b = quarantined(sites["home_a"]), quarantined(sites["home_b"])
    quarantined(sites["home_a"], resolved_at=NOW)  # resolved: off the list
    quarantined(sites["south"])
    client.force_login(member(Role.TERRITORY_MANAGER, territory=places["home"]))

    by_site = client.get(QUARANTINE, {"site": sites["home_a"].pk})

    assert {m.pk for m in by_site.context["page_obj"]} == {a.pk}
    assert by_site.context["counts"]["quarantined"] == 1
    assert "MSP Sancoins" in by_site.content.decode()
    assert listed(client, QUARANTINE, {"territory": places["home"].pk}) == {a.pk, b.pk}
    invalid_tab = f'href="?site={sites["home_a"].pk}&amp;view=invalid"'
    assert invalid_tab in by_site.content.decode()  # the tabs keep the narrowing
    assert reverse("continuity_quarantine") == QUARANTINE


def test_the_api_and_the_pages_share_the_definition_of_overdue(api, places):
    day = places["days"]["home_a"]
    late, today = exam(day, 1), exam(day, 2, expected_by=TODAY)
    overdue_task = task(places["sites"]["home_a"], due_at=NOW - timedelta(minutes=1))
    task(places["sites"]["home_a"], due_at=NOW)  # due now: not yet overdue
    api.force_authenticate(member(Role.NATIONAL_MANAGER))

    exams = api.get("/api/v1/exams/", {"overdue": "true"}).json()["results"]
    tasks = api.get("/api/v1/tasks/", {"overdue": "true"}).json()["results"]

    assert [e["id"] for e in exams] == [late.pk]
    assert today.pk not in [e["id"] for e in exams]
    assert [t["id"] for t in tasks] == [overdue_task.pk]
