"""The medical assistant: the course nurse's named fallback (seed 000, line 105), with her
follow-up rights everywhere, and routed to only when the site has no course nurse."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import Notification
from accounts.roles import Role
from accounts.services import api_token_create
from continuity import services
from continuity.models import FollowUpTask
from sites.models import Membership
from tests.config import test_routes as routes
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.factories import UserFactory

HL7 = "application/hl7-v2"


# --- Exactly the nurse's rights, on every route ----------------------------------------------


class AssistantWorld(routes.World):
    """The routes' world, with a medical assistant at the home site beside its course nurse."""

    def __init__(self) -> None:
        super().__init__()
        assistant = UserFactory()
        Membership.objects.create(user=assistant, role=Role.MEDICAL_ASSISTANT, site=self.home.site)
        self.users["medical_assistant"] = assistant
        self.notifications[assistant.pk] = Notification.objects.create(
            recipient=assistant, kind="test", subject="Test", body="Test", dedupe_key="t:ma"
        )
        self.api_tokens[assistant.pk] = api_token_create(user=assistant, name="route test")[0]


@pytest.fixture(scope="module")
def assistant_world(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        mock.patch("sites.views.catalogue.render_sheet_pdf", return_value=b"%PDF-"),
        mock.patch("sites.pdf.render_sheet_pdf", return_value=b"%PDF-"),
        transaction.atomic(),
    ):
        built = AssistantWorld()
        yield built, routes._clients(built)
        transaction.set_rollback(True)


NURSE_CASES = [
    (route, method, case, scope)
    for route, method, case, scope in routes._cases()
    if case.only is None or "course_nurse" in case.only.split()
]


def test_the_medical_assistant_gets_exactly_what_the_course_nurse_gets_on_every_route(
    assistant_world, db
):
    """Seed 000, line 105: a course nurse or, failing one, a medical assistant — the same
    function, so the same answer on every route of tests/config/test_routes.py (its course_nurse
    column), in scope and out of it."""
    built, clients = assistant_world
    wrong = []
    for route, method, case, scope in NURSE_CASES:
        expected = case.statuses(scope)["course_nurse"]
        status = routes.run(built, clients, route, method, case, scope, "medical_assistant")
        if status != expected:
            wrong.append(f"{method} {route} [{scope}]: {status} != {expected}")
    assert len(NURSE_CASES) > 100
    assert wrong == []


# --- Routing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_routing_prefers_the_nurse_then_the_medical_assistant(site):
    """Seed 000, line 105: the course nurse first; failing one, the medical assistant; then the
    territory manager (escalation level 1)."""
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    assert services.route(site) == (manager, FollowUpTask.Level.TERRITORY)
    assistant = member(Role.MEDICAL_ASSISTANT, site=site)
    assert services.route(site) == (assistant, FollowUpTask.Level.NURSE)
    nurse = member(Role.COURSE_NURSE, site=site)
    assert services.route(site) == (nurse, FollowUpTask.Level.NURSE)
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    assert services.route(site) == (assistant, FollowUpTask.Level.NURSE)


@pytest.mark.django_db
def test_a_result_at_a_site_without_a_nurse_goes_to_its_medical_assistant(api, site, day):
    """Seed 000, line 105, through the real ingestion (an HL7 message posted by the site)."""
    assistant = member(Role.MEDICAL_ASSISTANT, site=site)
    member(Role.TERRITORY_MANAGER, territory=site.territory)
    exam = record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-00421")
    api.force_authenticate(member(Role.SECRETARY, site=site))
    response = api.generic(
        "POST", "/api/v1/results/hl7/", sample("oru_normal_panel.hl7"), content_type=HL7
    )
    assert response.status_code == 201, response.json()
    task = FollowUpTask.objects.get(exam=exam, kind="review_result")
    assert (task.assignee, task.escalation_level) == (assistant, 0)


# --- Her pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_medical_assistant_has_the_nurse_home_section_and_menu(client, site, day):
    """Seed 000, line 105: the follow-up function's dashboard (tasks due, urgent results,
    quarantine, handovers) and the team's menu (planning, follow-up)."""
    assistant = member(Role.MEDICAL_ASSISTANT, site=site)
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=assistant, abnormal=True)
    client.force_login(assistant)
    home = client.get(reverse("home")).content.decode()
    assert 'data-role="medical_assistant"' in home
    assert f'href="{reverse("site_planning", args=[site.pk])}"' in home
    assert f'href="{reverse("continuity_worklist")}"' in home
    worklist = client.get(reverse("continuity_worklist")).content.decode()
    assert f"/{exam.tasks.get().pk}/" in worklist


@pytest.mark.django_db
def test_the_sheet_does_not_warn_of_a_missing_nurse_when_a_medical_assistant_follows_up(
    client, site
):
    """Seed 000, line 105: the assistant is the function's fallback, so results do not go to
    the territory manager."""
    secretary = member(Role.SECRETARY, site=site)
    client.force_login(secretary)
    url = reverse("site_detail", args=[site.pk])
    assert 'data-testid="no-course-nurse"' in client.get(url).content.decode()
    member(Role.MEDICAL_ASSISTANT, site=site)
    assert 'data-testid="no-course-nurse"' not in client.get(url).content.decode()
