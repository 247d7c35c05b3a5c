"""Every README claim about the demo is true for the demo's own accounts (issue 12, "The demo
tells the whole story"): each test is one claim of the README's "Demo accounts" section, checked
through the scoped querysets, services and pages those accounts use."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from accounts.errors import DomainError
from accounts.models import User
from accounts.roles import Role
from config import demo
from continuity.demo import ANALYTES, ANALYTES_BY_KIND, PANELS, REPORTS
from continuity.models import (
    ContactRequest,
    FollowUpTask,
    Handover,
    IncomingResult,
    PendingExam,
)
from sites import services as site_services
from sites.demo import DEMO_PASSWORD, TERRITORIES
from sites.models import HostSite, InfoSheet, ManagingStructure, Membership, Territory
from vacations.models import Vacation
from volunteers.models import Volunteer
from volunteers.validators import validate_rpps

NURSE_SITE = "Maison de santé de Châteaumeillant"
README_ACCOUNTS = {
    "national@demo.releve.fr": Role.NATIONAL_MANAGER,
    "ars@demo.releve.fr": Role.ARS_MANAGER,
    "cpts@demo.releve.fr": Role.TERRITORY_MANAGER,
    "secretariat@demo.releve.fr": Role.SECRETARY,
    "infirmiere@demo.releve.fr": Role.COURSE_NURSE,
    "assistant@demo.releve.fr": Role.MEDICAL_ASSISTANT,
    "infirmiere.laguiole@demo.releve.fr": Role.COURSE_NURSE,
    "dr.martin@demo.releve.fr": Role.VOLUNTEER,
    "dr.bernard@demo.releve.fr": Role.VOLUNTEER,
    "dr.petit@demo.releve.fr": Role.VOLUNTEER,
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo world, seeded once for the module (as `make run` does), then rolled back."""
    with django_db_blocker.unblock():
        from django.db import connection, transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        output = io.StringIO()
        # The tests' password hasher (tests/conftest.py), so that the tests can check them.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
        connection.close()


@pytest.fixture
def as_user(world, client, settings, db):
    settings.RELEVE_ENFORCE_MFA = False

    def sign_in(email: str):
        client.force_login(User.objects.get(email=email))
        return client

    return sign_in


def user(email: str) -> User:
    return User.objects.get(email=email)


# --- The accounts -----------------------------------------------------------------------------


def test_every_demo_account_signs_in_with_the_published_password_and_no_mfa_enrolled(world, db):
    for email in README_ACCOUNTS:
        assert user(email).check_password(DEMO_PASSWORD), email
    assert not Authenticator.objects.filter(user__email__in=README_ACCOUNTS).exists()


def test_each_demo_account_holds_the_role_the_readme_lists(world, db):
    for email, role in README_ACCOUNTS.items():
        assert set(user(email).memberships.values_list("role", flat=True)) == {role}, email


def test_seed_demo_prints_every_account_with_its_role_and_the_password(world, db):
    for email in README_ACCOUNTS:
        assert email in world
    assert DEMO_PASSWORD in world


def test_the_national_manager_reads_all_of_france(world, db):
    assert HostSite.objects.in_scope_of(user("national@demo.releve.fr")).count() == (
        HostSite.objects.count()
    )


def test_the_ars_manager_covers_region_centre_val_de_loire(world, db):
    ars = user("ars@demo.releve.fr")
    assert list(ars.memberships.values_list("region__name", flat=True)) == ["Centre-Val de Loire"]
    regions = set(
        HostSite.objects.in_scope_of(ars).values_list("territory__department__region", flat=True)
    )
    assert regions == {"24"}


def test_the_cpts_manager_manages_the_two_centre_val_de_loire_territories(world, db):
    managed = Territory.objects.managed_by(user("cpts@demo.releve.fr"))
    assert sorted(managed.values_list("name", flat=True)) == [
        "CC Berry Grand Sud",
        "CC Écueillé-Valençay",
    ]
    assert set(managed.values_list("department__region", flat=True)) == {"24"}


def test_the_secretary_and_the_nurse_work_at_chateaumeillant_and_its_secondary_practice(world, db):
    """Seed 003, line 11: the pôle mère runs its secondary practice (one shared planning)."""
    for email in ("secretariat@demo.releve.fr", "infirmiere@demo.releve.fr"):
        names = HostSite.objects.in_scope_of(user(email)).values_list("name", flat=True)
        assert sorted(names) == ["Cabinet secondaire du Châtelet", NURSE_SITE]


def test_the_medical_assistant_works_at_valencay_which_has_no_course_nurse(world, db):
    """Seed 000, line 105: a course nurse or, failing one, a medical assistant."""
    assistant = user("assistant@demo.releve.fr")
    # Luçay-le-Mâle is Valençay's secondary practice: Valençay's team runs it (seed 003, line 11).
    assert sorted(HostSite.objects.in_scope_of(assistant).values_list("name", flat=True)) == [
        "Centre de santé de Valençay",
        "Maison de santé de Luçay-le-Mâle",
    ]
    assert not Membership.objects.filter(
        role=Role.COURSE_NURSE, site__name="Centre de santé de Valençay"
    ).exists()


def test_martin_and_bernard_are_verified_and_signed_and_petit_awaits_verification(world, db):
    eligible = {v.user.email: v.is_eligible() for v in Volunteer.objects.select_related("user")}
    assert eligible == {
        "dr.martin@demo.releve.fr": True,
        "dr.bernard@demo.releve.fr": True,
        "dr.petit@demo.releve.fr": False,
    }
    assert Volunteer.objects.get(user__email="dr.petit@demo.releve.fr").status == "pending"


def test_the_pending_doctor_waits_in_the_cpts_managers_verification_queue(as_user):
    response = as_user("cpts@demo.releve.fr").get(reverse("reports:readiness"))
    queued = [volunteer.user.email for volunteer in response.context["volunteers"].page]
    assert queued == ["dr.petit@demo.releve.fr"]


def test_the_rpps_numbers_are_fictitious_with_a_valid_check_digit(world, db):
    for rpps in Volunteer.objects.values_list("rpps", flat=True):
        validate_rpps(rpps)
        assert rpps.startswith("1000")  # far below the real numbers (10 0xx xxx xxx)


# --- The places ---------------------------------------------------------------------------------


def test_the_demo_lives_on_frances_1255_territories_four_flagged_priority(world, db):
    assert Territory.objects.count() == 1255
    flagged = set(Territory.objects.filter(is_priority=True).values_list("epci_siren", flat=True))
    assert flagged == {siren for _name, siren, _department, _structure in TERRITORIES}


def test_one_made_up_cpts_per_region_manages_two_priority_territories(world, db):
    structures = ManagingStructure.objects.order_by("region_id")
    assert [s.region_id for s in structures] == ["24", "76"]
    for structure in structures:
        assert structure.territories.filter(is_priority=True).count() == 2


def test_four_active_sites_have_a_published_sheet_one_a_secondary_practice_with_its_parent(
    world, db
):
    public = HostSite.objects.public()
    assert public.count() == 4
    secondary = public.get(kind="secondary_practice")
    assert secondary.parent.name == NURSE_SITE


def test_the_cpts_managers_territories_hold_a_submitted_sheet_it_can_validate_or_send_back(
    world, db
):
    cpts = user("cpts@demo.releve.fr")
    waiting = HostSite.objects.managed_by(cpts).to_validate()
    # Luçay's first publication, and Valençay's revision of its published sheet.
    assert waiting.count() == 2
    site = waiting.get(info_sheet__status=InfoSheet.Status.SUBMITTED)
    assert site.info_sheet.status == InfoSheet.Status.SUBMITTED
    assert cpts.has_perm("sites.publish_sheet", site)
    assert user("ars@demo.releve.fr").has_perm("sites.publish_sheet", site)
    # Validation works, and so does the refusal (sent back to the site).
    published = site_services.sheet_publish(sheet=site.info_sheet, by=cpts)
    assert published.status == InfoSheet.Status.PUBLISHED


def test_the_submitted_sheet_can_be_sent_back_to_the_site_by_the_cpts_manager(world, db):
    cpts = user("cpts@demo.releve.fr")
    site = (
        HostSite.objects.managed_by(cpts)
        .to_validate()
        .get(info_sheet__status=InfoSheet.Status.SUBMITTED)
    )
    returned = site_services.sheet_return_to_draft(sheet=site.info_sheet, by=cpts)
    assert returned.status == InfoSheet.Status.DRAFT


def test_the_cpts_managers_territories_hold_a_draft_sheet_missing_a_mandatory_item(world, db):
    cpts = user("cpts@demo.releve.fr")
    drafts = InfoSheet.objects.filter(
        site__in=HostSite.objects.managed_by(cpts), status=InfoSheet.Status.DRAFT
    )
    sheet = drafts.get()
    assert [entry.item.code for entry in sheet.missing_mandatory()] == ["course_nurse"]
    assert HostSite.objects.managed_by(cpts).not_ready().filter(pk=sheet.site_id).exists()
    # Submitted as it is, the manager cannot publish it: the readiness item is missing.
    site_services.sheet_submit(sheet=sheet, by=None)
    with pytest.raises(DomainError) as refused:
        site_services.sheet_publish(sheet=sheet, by=cpts)
    assert refused.value.code == "readiness_incomplete"


def test_the_cpts_manager_sees_the_sheets_to_validate_on_its_preparation_page(as_user):
    response = as_user("cpts@demo.releve.fr").get(reverse("reports:readiness"))
    assert sorted(site.name for site in response.context["sheets"].page) == [
        "Centre de santé de Valençay",
        "Maison de santé de Luçay-le-Mâle",
    ]


# --- The days -----------------------------------------------------------------------------------


def test_days_are_done_over_the_last_two_months_and_open_requested_booked_over_the_next_two(
    world, db
):
    from django.utils import timezone

    today = timezone.localdate()
    days = Vacation.objects.all()
    done = days.filter(status="done")
    assert done.exists()
    assert all(0 < (today - day).days <= 70 for day in done.values_list("date", flat=True))
    for status in ("open", "requested", "booked"):
        future = days.filter(status=status).values_list("date", flat=True)
        assert future, status
        assert all(0 < (day - today).days <= 70 for day in future), status


def test_every_past_day_is_closed_with_its_exams_and_handover(world, db):
    done = Vacation.objects.filter(status="done")
    assert done.exists()
    assert not done.filter(handovers__isnull=True).exists()
    for vacation in done:
        assert vacation.no_exams or vacation.pending_exams.exists(), vacation


# --- Follow-up ----------------------------------------------------------------------------------


def test_exams_sit_in_every_state(world, db):
    statuses = set(PendingExam.objects.values_list("status", flat=True))
    assert statuses == set(PendingExam.Status.values)


def test_each_exam_result_matches_its_kind_no_potassium_on_an_ecg(world, db):
    received = PendingExam.objects.exclude(result_summary="")
    assert received.filter(kind="biology").exists()
    assert received.exclude(kind="biology").exists()
    for exam in received:
        lines = exam.result_summary.splitlines()
        if exam.kind == "biology":
            # The lab's analytes, one "name: value unit (ref. range)" line each: the panel's.
            names = [line.split(":", 1)[0] for line in lines]
            assert names == [name for name, _value, _flag in PANELS[exam.description]]
            assert set(names) <= ANALYTES_BY_KIND[exam.kind]
        else:
            # A written report, naming no lab analyte.
            assert ANALYTES_BY_KIND[exam.kind] == frozenset()
            assert exam.result_summary == REPORTS[exam.description]
            for name in ANALYTES:
                assert name.casefold() not in exam.result_summary.casefold(), (exam.kind, name)


def test_biology_results_came_as_the_laboratorys_messages_matched_on_their_order(world, db):
    for exam in PendingExam.objects.filter(kind="biology").exclude(result_summary=""):
        message = IncomingResult.objects.get(exam=exam)
        assert message.outcome == "matched"
        assert message.summary == exam.result_summary


def test_the_abnormal_potassium_is_a_biology_panel_flagged_urgent(world, db):
    exam = PendingExam.objects.get(result_summary__contains="Potassium")
    assert exam.kind == "biology"
    assert exam.abnormal is True
    assert exam.tasks.get(kind="review_result").priority == "urgent"


def test_the_nurse_has_open_overdue_and_escalated_tasks_at_her_own_site(as_user):
    nurse = user("infirmiere@demo.releve.fr")
    client = as_user(nurse.email)
    url = reverse("continuity_worklist")

    listed = list(client.get(url).context["page_obj"])
    overdue = list(client.get(url, {"overdue": "on"}).context["page_obj"])

    assert listed
    assert {task.site.name for task in listed} == {NURSE_SITE}
    assert any(task.assignee == nurse and task.status == "open" for task in listed)
    assert overdue
    assert {task.site.name for task in overdue} == {NURSE_SITE}
    assert all(task.late for task in overdue)
    escalated = [task for task in listed if task.escalation_level > 0]
    assert {task.escalation_level for task in escalated} == {1, 2}
    assert {task.assignee.email for task in escalated} == {
        "cpts@demo.releve.fr",
        "ars@demo.releve.fr",
    }
    assert all(task.escalations.exists() for task in escalated)


def test_the_overdue_task_stays_overdue_when_the_scheduled_escalation_runs(world, db):
    from continuity import services

    services.escalate_tasks()
    nurse = user("infirmiere@demo.releve.fr")
    assert FollowUpTask.objects.visible_to(nurse).active().overdue().exists()


def test_the_escalated_tasks_wait_in_the_managers_worklists(as_user):
    for email in ("cpts@demo.releve.fr", "ars@demo.releve.fr"):
        client = as_user(email)
        mine = list(client.get(reverse("continuity_worklist"), {"mine": "on"}).context["page_obj"])
        assert [task.site.name for task in mine] == [NURSE_SITE], email


def test_a_question_waits_for_dr_martin_on_his_follow_up_page(as_user):
    waiting = ContactRequest.objects.get(status="waiting")
    assert waiting.volunteer.user.email == "dr.martin@demo.releve.fr"
    assert waiting.task.site.name == NURSE_SITE
    response = as_user("dr.martin@demo.releve.fr").get(reverse("continuity_my_followups"))
    assert response.status_code == 200
    assert list(response.context["waiting"]) == [waiting]


def test_one_lab_message_sits_in_quarantine_for_the_nurse(as_user):
    response = as_user("infirmiere@demo.releve.fr").get(reverse("continuity_quarantine"))
    assert response.status_code == 200
    assert [result.outcome for result in response.context["page_obj"]] == ["quarantined"]
    assert IncomingResult.objects.filter(outcome="quarantined").count() == 1


def test_the_handovers_of_the_nurse_site_are_written(world, db):
    nurse = user("infirmiere@demo.releve.fr")
    assert Handover.objects.visible_to(nurse).filter(vacation__site__name=NURSE_SITE).exists()


def test_the_summary_lists_every_demo_account_with_its_role_and_scope(world, db):
    rows = {email: (role, scope) for email, role, scope in demo.accounts()}
    assert set(rows) == set(README_ACCOUNTS)
    assert rows["cpts@demo.releve.fr"] == (
        "Territory manager",
        "CC Berry Grand Sud, CC Écueillé-Valençay",
    )
    assert rows["infirmiere@demo.releve.fr"] == ("Course nurse", NURSE_SITE)
    assert Membership.objects.filter(user__email="dr.petit@demo.releve.fr").exists()


def test_a_published_sheet_has_changes_waiting_for_validation_while_the_public_keeps_its_version(
    world, client, as_user
):
    """Valençay's sheet was validated, then edited and resubmitted: the public page still shows
    the validated transport, the CPTS manager sees the change on the sheet's changes page."""
    from sites.demo import REVISED, REVISION

    sheet = InfoSheet.objects.get(site__name=REVISED)
    assert sheet.status == InfoSheet.Status.PUBLISHED
    assert sheet.revision_status == InfoSheet.RevisionStatus.SUBMITTED
    public = client.get(reverse("public_site", args=[sheet.site_id]))
    assert REVISION["transport"] not in public.content.decode()
    changes = as_user("cpts@demo.releve.fr").get(reverse("site_revision", args=[sheet.site_id]))
    assert changes.status_code == 200
    assert REVISION["transport"] in changes.content.decode()


def test_the_demo_has_one_feedback_from_each_side_and_one_incident_in_progress(world, db):
    """A done day of the demo was answered by its volunteer and its site, and left an
    incident being followed up (feedback app)."""
    from feedback.models import DayFeedback, Incident

    assert sorted(DayFeedback.objects.values_list("side", flat=True)) == ["site", "volunteer"]
    assert Incident.objects.get().status == "in_progress"
