"""A done day leaves feedback from both sides, reminded once; managers and the site read it.

Seeds: 000_f357cf44203102b3.txt (FemasAURA&Co) lines 76-90 name what a site must provide
(shared software with DMP, bioserveur and MSS access, equipment, a secretariat) and line 67
the accommodation; 001_c38d14cbaa092853.txt line 15 reports the field's complaints (premises,
equipment, "non-interoperable software"). The feedback asks for exactly those.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from feedback import services
from feedback.models import DayFeedback, FeedbackRequest
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    TerritoryFactory,
    VolunteerFactory,
    make_public_site,
    open_day,
)
from tests.feedback.conftest import SCORES, close

pytestmark = pytest.mark.django_db


def kinds(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_done_day_asks_the_volunteer_and_the_site_for_feedback(
    done, doctor, secretary, nurse, django_capture_on_commit_callbacks
):
    """Seed 000 line 92-97 (continuity and safety of care: risks of adverse events) and lines
    76-90 (what the site provides): each done day is looked back on by both sides."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        written = services.feedback_requests()
    assert written == 3  # the volunteer, the secretary and the course nurse
    for user in (doctor.user, secretary, nurse):
        assert "feedback_requested" in kinds(user)
    link = reverse("feedback_give", args=[done.pk])
    assert Notification.objects.filter(kind="feedback_requested", link=link).count() == 3
    assert {m.to[0] for m in mail.outbox} >= {doctor.user.email, secretary.email}
    # The day's page offers the form to each side.
    for user in (doctor.user, secretary):
        client = _client(user)
        page = client.get(reverse("vacation_detail", args=[done.pk]))
        assert b'data-testid="give-feedback"' in page.content


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_feedback_is_reminded_once(done, doctor, secretary, django_capture_on_commit_callbacks):
    """Seed 000 line 92-97: one reminder, stored (`FeedbackRequest.reminded_at`), never again;
    a side that answered is not reminded."""
    now = timezone.now()
    services.feedback_requests(now=now)
    services.feedback_give(vacation=done, by=secretary, **SCORES)
    assert services.feedback_requests(now=now + timedelta(days=1)) == 0  # too early
    later = now + services.REMIND_AFTER + timedelta(minutes=1)
    assert services.feedback_requests(now=later) == 1  # the volunteer only: the site answered
    assert kinds(doctor.user) == ["feedback_reminder", "feedback_requested"]
    assert "feedback_reminder" not in kinds(secretary)
    assert FeedbackRequest.objects.get(vacation=done, side="volunteer").reminded_at == later
    # Never again, even if the messages were purged from the inbox.
    Notification.objects.all().delete()
    for days in (4, 6, 10):
        assert services.feedback_requests(now=now + timedelta(days=days)) == 0


def test_feedback_is_asked_by_the_beat_job_every_quarter_of_an_hour(settings):
    """The job is registered as the other reminders are (`run_job feedback_requests`)."""
    job = settings.CELERY_BEAT_SCHEDULE["feedback_requests"]
    assert job["task"] == "feedback.tasks.feedback_requests"


def test_feedback_is_given_once_per_side_on_a_done_day_only(booked, doctor, secretary, api):
    """Only a done day, by its volunteer (volunteer's side) or its staff (site's side), once."""
    api.force_authenticate(doctor.user)
    body = {"vacation": booked.pk, **SCORES, "missing_software": True}
    refused = api.post("/api/v1/feedback/", body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "day_not_done")
    close(booked, doctor.user)
    first = api.post("/api/v1/feedback/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["side"] == "volunteer"
    again = api.post("/api/v1/feedback/", body, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "feedback_given")
    api.force_authenticate(secretary)
    site_side = api.post("/api/v1/feedback/", {**body, "vacation": booked.pk}, format="json")
    assert site_side.json()["side"] == "site"
    assert DayFeedback.objects.filter(vacation=booked).count() == 2
    # A stranger volunteer: the day is not theirs (visible? no: 400 as missing).
    api.force_authenticate(VolunteerFactory().user)
    assert api.post("/api/v1/feedback/", body, format="json").status_code == 400


def test_a_score_outside_1_to_5_is_refused_naming_the_field(done, doctor, api):
    api.force_authenticate(doctor.user)
    answer = api.post(
        "/api/v1/feedback/", {"vacation": done.pk, **SCORES, "welcome": 6}, format="json"
    )
    assert answer.status_code == 400
    assert "welcome" in answer.json()
    assert not DayFeedback.objects.exists()


def test_the_volunteer_gives_feedback_on_the_page(done, doctor):
    client = _client(doctor.user)
    url = reverse("feedback_give", args=[done.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {**SCORES, "welcome": ""})
    assert bad.status_code == 400
    assert not DayFeedback.objects.exists()
    answer = client.post(
        url, {**SCORES, "missing_accommodation": "on", "went_well": "Accueil parfait"}
    )
    assert answer.status_code == 302
    feedback = DayFeedback.objects.get()
    assert (feedback.side, feedback.missing_accommodation, feedback.went_well) == (
        "volunteer",
        True,
        "Accueil parfait",
    )
    shown = client.get(url)
    assert b'data-testid="feedback-answer"' in shown.content
    assert b"Accueil parfait" in shown.content
    # Reached from the volunteer's planning too.
    assert url.encode() in client.get(reverse("my_planning")).content


def _answered_world(count: int):
    """`count` done days at sites of one territory, each answered by both sides."""
    territory = TerritoryFactory(department_id="18")
    site = None
    for n in range(count):
        if n % 2 == 0:  # two days per site
            site = make_public_site(territory=territory)
        secretary = member(Role.SECRETARY, site=site)
        doctor = VolunteerFactory()
        day = open_day(
            site, timezone.localdate() - timedelta(days=n + 1), status="booked", volunteer=doctor
        )
        close(day, doctor.user)
        services.feedback_give(vacation=day, by=doctor.user, **SCORES, missing_software=True)
        services.feedback_give(vacation=day, by=secretary, **{**SCORES, "welcome": 3})
    return territory


def test_managers_see_feedback_per_site_and_territory(client):
    """Seed 000 line 36-41: the managing structure and the ARS pilot the scheme, so they read
    what each day left, per site and territory, averaged in the database, in their scope."""
    territory = _answered_world(4)
    other = _answered_world(2)
    manager = member(Role.TERRITORY_MANAGER, territory=territory)
    client.force_login(manager)
    page = client.get(reverse("feedback_answers"))
    assert page.status_code == 200
    per_territory = list(page.context["territories_page"])
    assert [row["site__territory"] for row in per_territory] == [territory.pk]
    row = per_territory[0]
    assert (row["answers"], row["from_volunteers"], row["from_sites"]) == (8, 4, 4)
    assert row["avg_welcome"] == pytest.approx(4.0)  # 5 by volunteers, 3 by sites
    assert row["n_missing_software"] == 4
    assert len(page.context["sites_page"]) == 2
    volunteers_only = client.get(reverse("feedback_answers"), {"side": "volunteer"})
    assert volunteers_only.context["territories_page"][0]["avg_welcome"] == pytest.approx(5.0)
    # Outside the manager's scope: 404.
    assert client.get(reverse("feedback_answers"), {"territory": other.pk}).status_code == 404
    other_site = other.sites.first()
    assert client.get(reverse("feedback_answers"), {"site": other_site.pk}).status_code == 404
    # Linked from the pilotage overview.
    overview = client.get(reverse("reports:overview"))
    assert reverse("feedback_answers").encode() in overview.content


@pytest.mark.parametrize("count", [2, 8])
def test_the_managers_answers_page_costs_the_same_queries_at_any_size(
    count, client, django_assert_max_num_queries
):
    territory = _answered_world(count)
    client.force_login(member(Role.TERRITORY_MANAGER, territory=territory))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("feedback_answers")).status_code == 200


def test_the_site_sees_the_volunteers_feedback_on_it(done, doctor, secretary, client):
    """Seed 000 line 81-90: the site hears what was missing for the volunteer."""
    services.feedback_give(
        vacation=done, by=doctor.user, **SCORES, missing_equipment=True, comment="Pas d'ECG"
    )
    services.feedback_give(vacation=done, by=secretary, **SCORES, comment="Interne au site")
    client.force_login(secretary)
    page = client.get(reverse("site_feedback", args=[done.site_id]))
    assert page.status_code == 200
    assert [a.side for a in page.context["page"]] == ["volunteer"]
    assert "Pas d&#x27;ECG" in page.content.decode()
    assert page.context["summary"]["avg_welcome"] == pytest.approx(5.0)
    planning = client.get(reverse("site_planning", args=[done.site_id]))
    assert reverse("site_feedback", args=[done.site_id]).encode() in planning.content
    # Another site's staff: 404.
    stranger = member(Role.SECRETARY, site=HostSiteFactory())
    client.force_login(stranger)
    assert client.get(reverse("site_feedback", args=[done.site_id])).status_code == 404


@pytest.mark.parametrize("count", [2, 8])
def test_the_sites_feedback_page_and_the_api_list_cost_the_same_queries_at_any_size(
    count, client, api, django_assert_max_num_queries
):
    territory = _answered_world(count)
    site = territory.sites.first()
    secretary = site.memberships.first().user
    client.force_login(secretary)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("site_feedback", args=[site.pk])).status_code == 200
    api.force_authenticate(member(Role.TERRITORY_MANAGER, territory=territory))
    with django_assert_max_num_queries(8):
        answer = api.get("/api/v1/feedback/")
    assert answer.json()["count"] == 2 * count


def test_the_api_lists_feedback_in_scope_only(done, doctor, secretary, api):
    services.feedback_give(vacation=done, by=doctor.user, **SCORES)
    api.force_authenticate(secretary)
    assert api.get("/api/v1/feedback/").json()["count"] == 1
    api.force_authenticate(member(Role.SECRETARY, site=HostSiteFactory()))
    assert api.get("/api/v1/feedback/").json()["count"] == 0


def test_the_form_says_a_day_not_done_yet_takes_no_feedback(booked, doctor):
    client = _client(doctor.user)
    page = client.get(reverse("feedback_give", args=[booked.pk]))
    assert page.status_code == 200
    assert b'data-code="day_not_done"' in page.content


def test_the_database_refuses_a_second_answer_of_one_side_and_a_score_out_of_range(
    done, doctor, secretary
):
    """The once-per-side rule and the 1–5 scale are backed by constraints, whatever writes."""
    from django.db import IntegrityError, transaction

    services.feedback_give(vacation=done, by=doctor.user, **SCORES)
    with pytest.raises(IntegrityError), transaction.atomic():
        DayFeedback.objects.create(
            vacation=done, site=done.site, side="volunteer", author=secretary, **SCORES
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        DayFeedback.objects.create(
            vacation=done,
            site=done.site,
            side="site",
            author=secretary,
            **{**SCORES, "equipment": 0},
        )
