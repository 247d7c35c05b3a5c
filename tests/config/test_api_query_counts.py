"""Every list of the API costs the same number of SQL queries for 2 rows as for 12.

The lists are read from the router: a new list endpoint fails here until it has a world
builder below (a function that writes `n` rows visible to someone and returns that someone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import islice

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_token_create
from config.urls import router
from continuity.models import ContactRequest, FollowUpTask, Handover, IncomingResult
from feedback.models import DayFeedback, Incident
from sites.models import Region, Territory
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    make_sheet,
    open_day,
)

SIZES = (2, 12)


def _yesterday():
    return timezone.localdate() - timedelta(days=1)


_codes = (f"{letter}{digit}" for letter in "XYZ" for digit in range(10))


def regions(n: int):
    # The 18 regions are reference data; add n more so the two sizes differ.
    Region.objects.bulk_create(
        [Region(code=code, name=f"Région {code}") for code in islice(_codes, n)]
    )
    return None  # anonymous: the list is public


def territories(n: int):
    Territory.objects.bulk_create(TerritoryFactory.build_batch(n, department_id="18"))
    return member(Role.ARS_MANAGER, region_id="24")


def sites(n: int):
    territory = TerritoryFactory()
    for _ in range(n):
        make_sheet(HostSiteFactory(territory=territory), status="published", ready=True)
    return member(Role.TERRITORY_MANAGER, territory=territory)


def volunteers(n: int):
    territory = TerritoryFactory()
    for _ in range(n):
        VolunteerFactory(territories=[territory])
    return member(Role.TERRITORY_MANAGER, territory=territory)


def vacations(n: int):
    site = HostSiteFactory()
    start = timezone.localdate() + timedelta(days=10)
    for i in range(n):
        open_day(site, start + timedelta(days=i), status="booked", volunteer=VolunteerFactory())
    return member(Role.SECRETARY, site=site)


def _site_with_exams(n: int):
    site = HostSiteFactory()
    nurse = member(Role.COURSE_NURSE, site=site)
    day = open_day(site, _yesterday(), status="booked", volunteer=VolunteerFactory())
    exams = [record_exam(day, order_number=f"CMD-{i:04d}") for i in range(n)]
    return site, nurse, exams


def exams(n: int):
    return _site_with_exams(n)[1]


def _incoming(site, exam=None, **fields):
    return IncomingResult.objects.create(
        format=IncomingResult.Format.HL7V2, raw=b"MSH|^~\\&|", site=site, exam=exam,
        caller=UserFactory(), **fields,
    )  # fmt: skip


def incoming_results(n: int):
    site, nurse, exams = _site_with_exams(n)
    for exam in exams:
        _incoming(site, exam, outcome=IncomingResult.Outcome.MATCHED)
    return nurse


def quarantine(n: int):
    site, nurse, _ = _site_with_exams(0)
    for _ in range(n):
        _incoming(
            site,
            outcome=IncomingResult.Outcome.QUARANTINED,
            reason=IncomingResult.Reason.UNKNOWN_ORDER,
        )
    return nurse


def _tasks(n: int):
    site, nurse, exams = _site_with_exams(n)
    tasks = [
        FollowUpTask.objects.create(
            site=site,
            exam=exam,
            kind=FollowUpTask.Kind.REVIEW_RESULT,
            title="Relire",
            assignee=nurse,
            due_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
        for exam in exams
    ]
    return nurse, tasks


def tasks(n: int):
    return _tasks(n)[0]


def contact_requests(n: int):
    nurse, tasks = _tasks(n)
    now = timezone.now()
    for task in tasks:
        ContactRequest.objects.create(
            task=task, volunteer=task.exam.prescriber, asked_by=nurse, question="Avis ?",
            asked_at=now, due_at=now + timedelta(days=2),
        )  # fmt: skip
    return nurse


def handovers(n: int):
    site = HostSiteFactory()
    nurse = member(Role.COURSE_NURSE, site=site)
    for i in range(n):
        volunteer = VolunteerFactory()
        day = open_day(site, _yesterday() - timedelta(days=i), status="done", volunteer=volunteer)
        Handover.objects.create(vacation=day, author=volunteer.user, text="RAS", patient_refs=[])
    return nurse


def api_tokens(n: int):
    user = UserFactory()
    for i in range(n):
        api_token_create(user=user, name=f"Script {i}")
    return user


def _done_days(n: int):
    site = HostSiteFactory()
    start = timezone.localdate() - timedelta(days=n + 1)
    days = [
        open_day(site, start + timedelta(days=i), status="done", volunteer=VolunteerFactory())
        for i in range(n)
    ]
    return site, days


def feedback(n: int):
    site, days = _done_days(n)
    DayFeedback.objects.bulk_create(
        DayFeedback(
            vacation=day, site=site, side=DayFeedback.Side.VOLUNTEER, author=day.volunteer.user,
            welcome=5, organisation=4, patient_load=3, equipment=2,
        )
        for day in days
    )  # fmt: skip
    return member(Role.SECRETARY, site=site)


def incidents(n: int):
    site, days = _done_days(n)
    reporter = member(Role.SECRETARY, site=site)
    Incident.objects.bulk_create(
        Incident(
            vacation=day, site=site, kind=Incident.Kind.EQUIPMENT,
            severity=Incident.Severity.MINOR, what_happened="ECG en panne", reported_by=reporter,
        )
        for day in days
    )  # fmt: skip
    return reporter


WORLDS: dict[str, Callable[[int], object]] = {
    "feedback": feedback,
    "incident": incidents,
    "region": regions,
    "territory": territories,
    "site": sites,
    "volunteer": volunteers,
    "vacation": vacations,
    "exam": exams,
    "incoming-result": incoming_results,
    "quarantine": quarantine,
    "task": tasks,
    "contact-request": contact_requests,
    "handover": handovers,
    "api-tokens": api_tokens,
}

LISTS = [
    pytest.param(prefix, basename, id=basename)
    for prefix, viewset, basename in router.registry
    if hasattr(viewset, "list")
]


def queries_for_list(prefix: str, basename: str, n: int) -> tuple[int, int]:
    """The number of queries of the list's first page with `n` rows, and the rows listed."""
    user = WORLDS[basename](n)
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/{prefix}/")
    assert response.status_code == 200, response.content[:500]
    return len(queries), response.json()["count"]


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "basename"), LISTS)
def test_every_list_costs_the_same_queries_whatever_its_size(prefix, basename):
    assert basename in WORLDS, f"/api/v1/{prefix}/ is a list without a world builder here"
    small = queries_for_list(prefix, basename, SIZES[0])
    large = queries_for_list(prefix, basename, SIZES[1])

    assert SIZES[0] <= small[1] < large[1], (small, large)
    assert small[0] == large[0], (
        f"{small[0]} queries for {small[1]} rows, {large[0]} for {large[1]}"
    )


def test_every_world_builder_serves_a_list_of_the_router():
    listed = {param.values[1] for param in LISTS}
    assert set(WORLDS) <= listed
