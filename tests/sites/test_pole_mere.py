"""A secondary practice leans on its pôle mère: its follow-up goes to the pôle mère's course
nurse (then medical assistant) when it has none of its own, and the pôle mère's team runs its
planning beside their own, in one calendar.

The decision (seed 003): the pôle mère's team *always* runs its secondary practices — one shared
planning for all the practices (line 11), the secondary practice run from the pôle mère (line
3) — whether or not the secondary practice has staff of its own. Routing is narrower: the
practice's own nurse or assistant first, the pôle mère's only when it has none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import allowed
from accounts.roles import Role
from continuity import services as continuity
from continuity.models import FollowUpTask, PendingExam
from sites.models import HostSite
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations import services as vacations
from vacations.models import PARIS, Vacation

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)
HL7 = "application/hl7-v2"
SECONDARY = HostSite.Kind.SECONDARY_PRACTICE


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pole(db):
    return make_public_site(name="Maison de santé du Bourg", rooms=2)


@pytest.fixture
def annex(pole):
    """The secondary practice the pôle mère runs, in the same territory, no staff of its own."""
    return make_public_site(
        name="Cabinet secondaire du Village", kind=SECONDARY, parent=pole, territory=pole.territory
    )


@pytest.fixture
def nurse(pole):
    return member(Role.COURSE_NURSE, site=pole)


@pytest.fixture
def secretary(pole):
    return member(Role.SECRETARY, site=pole)


@pytest.fixture
def manager(pole):
    return member(Role.TERRITORY_MANAGER, territory=pole.territory)


def past_day(site, volunteer=None):
    volunteer = volunteer or VolunteerFactory(territories=[site.territory])
    return open_day(site, date(2027, 2, 26), status="booked", volunteer=volunteer)


# --- Follow-up routing ------------------------------------------------------------------------


def test_a_result_at_a_secondary_practice_without_a_nurse_goes_to_the_pole_mere_nurse(
    api, annex, nurse, manager
):
    """Seed 003 line 11 (the secondary practice shares the pôle mère's team) and seed 000 line
    105 (a course nurse follows the results up). The result comes through the real ingestion
    (an HL7 message posted by the practice's own secretary, its lab interface account)."""
    sender = member(Role.SECRETARY, site=annex)
    exam = record_exam(past_day(annex), order_number="CMD-2026-000142", patient_ref="MSP-00421")

    api.force_authenticate(sender)
    response = api.generic(
        "POST", "/api/v1/results/hl7/", sample("oru_normal_panel.hl7"), content_type=HL7
    )

    assert response.status_code == 201, response.json()
    task = FollowUpTask.objects.get(exam=exam, kind="review_result")
    assert (task.site, task.assignee, task.escalation_level) == (annex, nurse, 0)


def test_without_a_pole_mere_the_secondary_practice_result_goes_to_the_territory_manager(
    annex, nurse, manager
):
    """The fallback needs the attachment: an unattached practice goes up to the territory."""
    annex.parent = None
    annex.save(update_fields=["parent"])
    assert continuity.route(annex) == (manager, FollowUpTask.Level.TERRITORY)


def test_only_a_secondary_or_temporary_practice_leans_on_its_pole_mere(pole, nurse, manager):
    """Seed 003 line 1: secondary practices attached to a pôle mère (a temporary practice too);
    another kind of site with a parent set keeps to its own team."""
    temporary = make_public_site(
        kind=HostSite.Kind.TEMPORARY_PRACTICE, parent=pole, territory=pole.territory
    )
    msp = make_public_site(kind=HostSite.Kind.MSP, parent=pole, territory=pole.territory)
    assert continuity.route(temporary) == (nurse, FollowUpTask.Level.NURSE)
    assert continuity.route(msp) == (manager, FollowUpTask.Level.TERRITORY)


def test_a_secondary_practice_falls_back_on_the_pole_mere_medical_assistant(annex, manager):
    """Seed 000 line 105: a course nurse or, failing one, a medical assistant — at the pôle
    mère too (seed 003 line 11)."""
    assistant = member(Role.MEDICAL_ASSISTANT, site=annex.parent)
    assert continuity.route(annex) == (assistant, FollowUpTask.Level.NURSE)


def test_a_secondary_practice_with_its_own_nurse_or_assistant_keeps_its_tasks(
    annex, nurse, manager
):
    """Seed 000 line 105: the follow-up is the site's own function first; the pôle mère's team
    is the fallback (seed 003 line 11)."""
    assistant = member(Role.MEDICAL_ASSISTANT, site=annex)
    assert continuity.route(annex) == (assistant, FollowUpTask.Level.NURSE)
    own_nurse = member(Role.COURSE_NURSE, site=annex)
    assert continuity.route(annex) == (own_nurse, FollowUpTask.Level.NURSE)


# --- Planning and booking ---------------------------------------------------------------------


def test_the_pole_mere_secretary_books_a_day_at_its_secondary_practice(
    client, api, annex, secretary
):
    """Seed 003 line 11: one planning shared by all the practices, run by the pôle mère's
    secretariat (the secondary practice has no secretary of its own here). Open, book,
    confirm, decline, cancel, record a no-show: pages and API alike."""
    client.force_login(secretary)
    opened = client.post(
        reverse("site_planning", args=[annex.pk]),
        {"month": "2027-03", "extra_dates": "09/03/2027, 10/03/2027, 11/03/2027", "period": "day"},
    )
    assert opened.status_code == 302
    days = list(Vacation.objects.filter(site=annex).order_by("date"))
    assert [day.status for day in days] == ["open", "open", "open"]

    volunteer = VolunteerFactory(territories=[annex.territory])
    booked = client.post(
        reverse("vacation_book_page", args=[days[0].pk]), {"volunteer": volunteer.pk}
    )
    assert booked.status_code == 302

    asker, other = VolunteerFactory(territories=[annex.territory]), VolunteerFactory()
    vacations.vacation_request(vacation=days[1], volunteer=asker)
    vacations.vacation_request(vacation=days[2], volunteer=other)
    assert client.post(reverse("vacation_confirm", args=[days[1].pk])).status_code == 302
    api.force_authenticate(secretary)
    assert api.post(f"/api/v1/vacations/{days[2].pk}/decline/").status_code == 200
    cancel = api.post(
        f"/api/v1/vacations/{days[0].pk}/cancel/", {"reason": "Locaux indisponibles"}, format="json"
    )
    assert cancel.status_code == 200

    gone = past_day(annex)
    assert api.post(f"/api/v1/vacations/{gone.pk}/no-show/").status_code == 200

    statuses = dict(Vacation.objects.filter(site=annex).values_list("pk", "status"))
    assert [statuses[day.pk] for day in days] == ["cancelled", "booked", "open"]
    assert statuses[gone.pk] == "no_show"


def test_the_pole_mere_team_always_runs_its_secondary_practice_even_with_staff_of_its_own(
    annex, secretary, nurse
):
    """Decision, from seed 003 lines 3 and 11: the secondary practice is run from the pôle mère
    with one planning common to all the practices, so a secretary of its own (line 3: funded by
    the commune) works beside the pôle mère's team, not instead of it."""
    own = member(Role.SECRETARY, site=annex)
    day = open_day(annex, date(2027, 3, 9))
    for user in (secretary, nurse, own):
        assert allowed(user, "vacations.book_day", day)
        assert allowed(user, "sites.edit_sheet", annex)
        assert annex in HostSite.objects.in_scope_of(user)
    assert allowed(secretary, "vacations.open_day", annex)
    assert not allowed(nurse, "vacations.open_day", annex)  # opening days stays the secretary's


def test_the_secondary_practice_team_does_not_run_the_pole_mere(pole, annex):
    """Seed 003 line 1: the secondary practice is attached to the pôle mère, not the reverse."""
    own = member(Role.SECRETARY, site=annex)
    assert not allowed(own, "vacations.open_day", pole)
    assert pole not in HostSite.objects.in_scope_of(own).filter(pk=pole.pk).exclude(
        status=HostSite.Status.ACTIVE, info_sheet__status="published"
    )
    assert not allowed(own, "sites.edit_sheet", pole)


def test_the_pole_mere_team_edits_the_secondary_practice_sheet(client, annex, secretary):
    """Seed 003 line 11: the practice is run from the pôle mère, its information sheet too."""
    client.force_login(secretary)
    assert client.get(reverse("site_detail", args=[annex.pk])).status_code == 200
    assert allowed(secretary, "sites.submit_sheet", annex)


# --- The follow-up in the pôle mère's worklists ----------------------------------------------


def test_the_pole_mere_nurse_sees_the_secondary_practice_follow_up_in_her_worklist(
    client, pole, annex, nurse
):
    """Seed 003 line 11 and seed 000 line 105: the pôle mère's nurse follows the secondary
    practice's results up; its tasks and exams are in her lists, labelled with their site."""
    volunteer = VolunteerFactory(territories=[pole.territory])
    exam = record_exam(past_day(annex, volunteer), order_number="CMD-ANNEX-1")
    continuity.exam_receive(exam=exam, by=nurse, abnormal=True, now=NOW)
    task = exam.tasks.get()
    assert task.assignee == nurse
    assert exam in PendingExam.objects.visible_to(nurse)
    assert task in FollowUpTask.objects.visible_to(nurse)

    client.force_login(nurse)
    worklist = client.get(reverse("continuity_worklist")).content.decode()
    assert f'data-task="{task.pk}"' in worklist or f"/{task.pk}/" in worklist
    assert annex.name in worklist
    home = client.get(reverse("home")).content.decode()
    assert annex.name in home


# --- One calendar with both sites -------------------------------------------------------------


def test_the_pole_mere_calendar_shows_both_sites(client, pole, annex, secretary):
    """Seed 003 line 11: one shared planning for the pôle mère and its secondary practice —
    each day labelled with its site, a filter per site."""
    own = open_day(pole, date(2027, 3, 9))
    theirs = open_day(annex, date(2027, 3, 10))
    asked = open_day(annex, date(2027, 3, 11))
    vacations.vacation_request(
        vacation=asked, volunteer=VolunteerFactory(territories=[annex.territory])
    )
    client.force_login(secretary)
    url = reverse("site_planning", args=[pole.pk])

    page = client.get(url, {"mois": "2027-03"}).content.decode()
    assert f'data-vacation="{own.pk}" data-status="open" data-site="{pole.pk}"' in page
    assert f'data-vacation="{theirs.pk}" data-status="open" data-site="{annex.pk}"' in page
    assert page.count('data-testid="day-site"') == 3
    assert 'data-testid="planning-sites"' in page
    assert f'data-testid="request-site">{annex.name}<' in page  # its request to confirm

    only_annex = client.get(url, {"mois": "2027-03", "site": annex.pk}).content.decode()
    assert f'data-vacation="{theirs.pk}"' in only_annex
    assert f'data-vacation="{own.pk}"' not in only_annex
    # The empty days of the pôle mère open at the pôle mère: not offered while it is hidden.
    assert 'data-testid="open-2027-03-12"' not in only_annex
    # The secondary practice's day leaves the pôle mère's date free to open.
    assert 'data-testid="open-2027-03-10"' in page


def test_the_secretary_planning_menu_reaches_the_combined_calendar(client, pole, annex, secretary):
    """Seed 003 line 11: the "Planning" entry of the menu is the shared planning."""
    open_day(annex, date(2027, 3, 10))
    client.force_login(secretary)
    home = client.get(reverse("home")).content.decode()
    planning = reverse("site_planning", args=[pole.pk])
    assert f'href="{planning}"' in home
    page = client.get(planning).content.decode()
    assert f'data-site="{annex.pk}"' in page


def test_a_site_without_a_secondary_practice_shows_its_month_alone(client, pole, secretary):
    client.force_login(secretary)
    open_day(pole, date(2027, 3, 9))
    page = client.get(reverse("site_planning", args=[pole.pk])).content.decode()
    assert 'data-testid="planning-sites"' not in page
    assert 'data-testid="day-site"' not in page


def _month_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, {"mois": "2027-03"}).status_code == 200
    return len(queries)


def test_the_combined_calendar_asks_as_many_queries_whatever_the_number_of_days(
    client, pole, annex, secretary
):
    """Constant SQL per page: a month with one day per site, then one full of days at both
    sites and a second secondary practice, with requests to confirm."""
    client.force_login(secretary)
    url = reverse("site_planning", args=[pole.pk])
    open_day(pole, date(2027, 3, 9))
    asked = open_day(annex, date(2027, 3, 10))
    vacations.vacation_request(
        vacation=asked, volunteer=VolunteerFactory(territories=[annex.territory])
    )
    small = _month_queries(client, url)

    other = make_public_site(kind=SECONDARY, parent=pole, territory=pole.territory)
    for n in range(15):
        for site in (pole, annex, other):
            day = open_day(site, date(2027, 3, 11) + timedelta(days=n))
            if n % 3 == 0:
                vacations.vacation_request(
                    vacation=day, volunteer=VolunteerFactory(territories=[site.territory])
                )
    assert _month_queries(client, url) == small


# --- The pôle mère's team is told, and its feeds follow the team -------------------------------


def test_a_request_at_the_secondary_practice_tells_the_pole_mere_team(annex, secretary, nurse):
    """Seed 003 line 11: the pôle mère's secretariat runs the shared planning, so a volunteer's
    request at the secondary practice reaches it."""
    from accounts.models import Notification

    day = open_day(annex, date(2027, 3, 9))
    vacations.vacation_request(
        vacation=day, volunteer=VolunteerFactory(territories=[annex.territory])
    )
    told = set(
        Notification.objects.filter(kind="vacation_requested").values_list("recipient", flat=True)
    )
    assert {secretary.pk, nurse.pk} <= told


def test_leaving_the_pole_mere_team_renews_its_secondary_practice_calendar_address(
    pole, annex, secretary
):
    """The secondary practice's private feed was the leaver's too (seed 003 line 11)."""
    from sites import services as sites_services
    from sites.models import Membership

    before = annex.calendar_token
    leaving = Membership.objects.get(user=secretary, site=pole)
    sites_services.membership_end(membership=leaving, by=None)
    annex.refresh_from_db()
    assert annex.calendar_token != before
