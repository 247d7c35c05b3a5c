"""Chasing, escalation, questions to the prescriber, handovers and the day's closure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from continuity import services
from continuity.models import ContactRequest, Escalation, FollowUpTask, HandoverRead
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import VolunteerFactory, open_day

pytestmark = pytest.mark.django_db


def test_an_exam_past_its_date_gets_exactly_one_chase_task_after_two_runs(day, nurse):
    exam = record_exam(day, kind="ecg")  # expected 2 days after the order
    with time_machine.travel(exam.expected_by + timedelta(days=2), tick=False):
        call_command("run_job", "overdue_exams")
        call_command("run_job", "overdue_exams")
    chase = FollowUpTask.objects.get(exam=exam)
    assert (chase.kind, chase.assignee) == ("chase_result", nurse)


def test_an_exam_not_yet_due_is_not_chased(day, nurse):
    exam = record_exam(day, kind="specialist")
    with time_machine.travel(exam.expected_by, tick=False):
        assert services.overdue_exams() == 0
    assert not FollowUpTask.objects.exists()


def test_the_result_arriving_closes_the_chase_task(day, nurse):
    exam = record_exam(day, kind="ecg")
    later = timezone.now() + timedelta(days=5)
    services.overdue_exams(now=later)
    services.exam_receive(exam=exam, by=nurse, abnormal=False, now=later)
    assert FollowUpTask.objects.get(exam=exam, kind="chase_result").status == "done"


@pytest.fixture
def managers(site):
    return (
        member(Role.TERRITORY_MANAGER, territory=site.territory),
        member(Role.ARS_MANAGER, region_id=site.territory.department.region_id),
    )


def test_an_urgent_task_past_due_goes_to_level_1_then_2_with_one_notification_each(
    day, nurse, managers
):
    territory_manager, ars = managers
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    task = FollowUpTask.objects.get(exam=exam)
    first = task.due_at + timedelta(minutes=1)
    with time_machine.travel(first, tick=False):
        call_command("run_job", "escalate_tasks")
        call_command("run_job", "escalate_tasks")  # same deadline: nothing more
    task.refresh_from_db()
    assert (task.escalation_level, task.assignee) == (1, territory_manager)
    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        call_command("run_job", "escalate_tasks")
        call_command("run_job", "escalate_tasks")
    task.refresh_from_db()
    assert (task.escalation_level, task.assignee) == (2, ars)
    escalations = Escalation.objects.filter(task=task)
    assert [(e.from_level, e.to_level) for e in escalations] == [(0, 1), (1, 2)]
    assert escalations[0].from_user == nurse
    assert escalations[0].reason
    sent = Notification.objects.filter(kind="task_escalated")
    assert sorted(n.recipient_id for n in sent) == sorted([territory_manager.pk, ars.pk])
    with time_machine.travel(task.due_at + timedelta(days=3), tick=False):
        assert services.escalate_tasks() == 0  # ARS is the top


def test_a_task_done_in_time_does_not_escalate(day, nurse, managers):
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    task = FollowUpTask.objects.get(exam=exam)
    services.task_done(task=task, by=nurse, note="Patient rappelé")
    assert services.escalate_tasks(now=task.due_at + timedelta(hours=1)) == 0


def test_a_question_to_the_prescriber_waits_then_escalates_when_unanswered(
    api, day, nurse, managers
):
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    task = FollowUpTask.objects.get(exam=exam)
    api.force_authenticate(nurse)
    response = api.post(
        f"/api/v1/tasks/{task.pk}/contact-prescriber/",
        {"question": "Faut-il contrôler la kaliémie sous 48 h ?"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "waiting"
    question = ContactRequest.objects.get()
    # The commitment's delay (72 working hours by default) is the deadline.
    assert response.json()["due_at"] == api.get(f"/api/v1/tasks/{task.pk}/").json()["due_at"]
    assert question.due_at - question.asked_at >= timedelta(hours=72)
    assert Notification.objects.filter(
        kind="contact_request", recipient=day.volunteer.user
    ).exists()
    halfway = question.asked_at + (question.due_at - question.asked_at) / 2 + timedelta(hours=1)
    services.escalate_tasks(now=halfway)
    services.escalate_tasks(now=halfway)
    assert Notification.objects.filter(kind="contact_reminder").count() == 1
    services.escalate_tasks(now=question.due_at + timedelta(minutes=5))
    task.refresh_from_db()
    assert task.escalation_level == 1
    assert "prescripteur" in Escalation.objects.get().reason  # recorded in French


def test_the_volunteer_answers_and_the_task_comes_back(api, day, nurse):
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=False)
    task = FollowUpTask.objects.get(exam=exam)
    question = services.contact_prescriber(task=task, by=nurse, question="Contrôle à prévoir ?")
    api.force_authenticate(day.volunteer.user)
    listed = api.get("/api/v1/contact-requests/").json()["results"]
    assert [row["id"] for row in listed] == [question.pk]
    empty = api.post(f"/api/v1/contact-requests/{question.pk}/answer/", {"answer": " "})
    assert empty.status_code == 400
    assert "answer" in empty.json()
    response = api.post(
        f"/api/v1/contact-requests/{question.pk}/answer/",
        {"answer": "Oui, contrôle dans un mois."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.status == "in_progress"
    assert Notification.objects.filter(kind="contact_answered", recipient=nurse).exists()
    # Another volunteer neither sees nor answers it.
    api.force_authenticate(VolunteerFactory().user)
    assert (
        api.post(f"/api/v1/contact-requests/{question.pk}/answer/", {"answer": "x"}).status_code
        == 404
    )


def test_a_day_is_done_only_once_closed(api, day, nurse, secretary):
    api.force_authenticate(secretary)
    url = f"/api/v1/vacations/{day.pk}/complete/"
    refused = api.post(url, {"consultations_count": 12}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "closure_incomplete"
    day.refresh_from_db()
    assert day.status == "booked"
    assert day.indemnity is None
    api.force_authenticate(day.volunteer.user)
    handover = api.post(
        "/api/v1/handovers/",
        {"vacation": day.pk, "text": "Revoir Mme D. pour sa TA.", "patient_refs": ["MSP-00421"]},
        format="json",
    )
    assert handover.status_code == 201, handover.json()
    still = api.post(url, {"consultations_count": 12}, format="json")
    assert still.json()["code"] == "closure_incomplete"  # exams neither listed nor "none"
    done = api.post(url, {"consultations_count": 12, "no_exams": True}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done"
    assert done.json()["indemnity"] == "200.00"


def test_a_day_with_its_exams_listed_and_a_handover_closes(api, day, nurse):
    record_exam(day)
    services.handover_write(vacation=day, by=day.volunteer.user, text="RAS")
    api.force_authenticate(day.volunteer.user)
    response = api.post(f"/api/v1/vacations/{day.pk}/complete/", {"consultations_count": 9})
    assert response.status_code == 200, response.json()


def test_handovers_are_read_by_the_next_volunteer_and_each_read_is_kept(api, day, site, nurse):
    handover = services.handover_write(
        vacation=day, by=day.volunteer.user, text="Pansement à refaire", patient_refs="A-1\nA-2"
    )
    assert handover.patient_refs == ["A-1", "A-2"]
    next_volunteer = VolunteerFactory()
    api.force_authenticate(next_volunteer.user)
    assert api.get("/api/v1/handovers/").json()["count"] == 0  # no day there yet
    open_day(
        site, timezone.localdate() + timedelta(days=3), status="booked", volunteer=next_volunteer
    )
    listed = api.get("/api/v1/handovers/").json()["results"]
    assert [row["id"] for row in listed] == [handover.pk]
    api.force_authenticate(nurse)
    api.get(f"/api/v1/handovers/{handover.pk}/")
    readers = list(HandoverRead.objects.values_list("reader", flat=True))
    assert sorted(readers) == sorted([next_volunteer.user.pk, nurse.pk])


def test_a_nurse_of_site_a_gets_404_on_site_b_tasks_and_handovers(api, nurse, outsider_site):
    other_day = open_day(
        outsider_site,
        timezone.localdate() - timedelta(days=1),
        status="booked",
        volunteer=VolunteerFactory(),
    )
    exam = record_exam(other_day)
    outsider_nurse = member(Role.COURSE_NURSE, site=outsider_site)
    services.exam_receive(exam=exam, by=outsider_nurse, abnormal=False)
    task = FollowUpTask.objects.get()
    handover = services.handover_write(vacation=other_day, by=outsider_nurse, text="RAS")
    api.force_authenticate(nurse)
    assert api.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert api.post(f"/api/v1/tasks/{task.pk}/done/", {}).status_code == 404
    assert api.get(f"/api/v1/handovers/{handover.pk}/").status_code == 404
    assert api.get("/api/v1/tasks/").json()["count"] == 0


def test_task_filters(api, day, nurse):
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    api.force_authenticate(nurse)
    assert api.get("/api/v1/tasks/?overdue=true").json()["count"] == 0
    assert api.get("/api/v1/tasks/?status=open&assignee=me").json()["count"] == 1
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert api.get("/api/v1/tasks/?overdue=true").json()["results"][0]["overdue"] is True


def test_my_planning_leads_the_next_volunteer_to_the_sites_handovers(client, day, site):
    from django.urls import reverse

    services.handover_write(vacation=day, by=day.volunteer.user, text="Pansement à refaire")
    next_volunteer = VolunteerFactory()
    coming = open_day(
        site, timezone.localdate() + timedelta(days=2), status="booked", volunteer=next_volunteer
    )
    client.force_login(next_volunteer.user)
    planning = client.get(reverse("my_planning")).content.decode()
    link = f'href="{reverse("continuity_handovers")}?site={site.pk}"'
    assert link in planning
    assert f'data-testid="handovers-{coming.pk}"' in planning
    page = client.get(reverse("continuity_handovers"), {"site": site.pk})
    assert "Pansement à refaire" in page.content.decode()
    assert HandoverRead.objects.filter(reader=next_volunteer.user).count() == 1


def _overdue_backlog(site, n: int, due) -> list[FollowUpTask]:
    return FollowUpTask.objects.bulk_create(
        FollowUpTask(site=site, kind="other", title=f"Tâche {i}", due_at=due) for i in range(n)
    )


def test_escalation_of_a_backlog_is_batched(site, nurse, managers):
    """A backlog escalates in a fixed number of queries whatever its size (issue 14: a
    national backlog within one cycle), spread over the least-busy managers as one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    territory_manager, ars = managers
    other = member(Role.TERRITORY_MANAGER, territory=site.territory)
    due = timezone.now() - timedelta(hours=1)
    queries = {}
    for n in (5, 40):
        FollowUpTask.objects.all().delete()
        _overdue_backlog(site, n, due)
        with CaptureQueriesContext(connection) as run:
            assert services.escalate_tasks() == n
        queries[n] = len(run.captured_queries)
        # Level 1 (territory): the two territory managers share the backlog.
        tasks = FollowUpTask.objects.all()
        assert {t.escalation_level for t in tasks} == {1}
        loads = sorted(
            tasks.filter(assignee__in=[territory_manager, other])
            .values_list("assignee", flat=True)
            .order_by("assignee")
        )
        assert abs(loads.count(territory_manager.pk) - loads.count(other.pk)) <= 1
        assert Escalation.objects.filter(task__in=tasks).count() == n
        assert all(t.history.filter(history_change_reason="escalated").exists() for t in tasks)
        notified = Notification.objects.filter(
            kind="task_escalated", recipient__in=[territory_manager, other]
        ).count()
        assert notified >= n
    assert queries[5] == queries[40] <= 30


def test_chasing_overdue_exams_costs_the_same_queries_for_3_or_30(day, nurse):
    """Issue 14: the job chases a national backlog in batches (a fixed number of queries per
    batch), each exam chased once and its nurse told, the loads spread as one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    second = member(Role.COURSE_NURSE, site=day.site)
    later = timezone.now() + timedelta(days=40)
    counts = []
    for size in (3, 30):
        exams = [record_exam(day, order_number=f"CMD-{size}-{n}", kind="ecg") for n in range(size)]
        with CaptureQueriesContext(connection) as queries:
            assert services.overdue_exams(now=later) == size
        counts.append(len(queries))
        chased = FollowUpTask.objects.filter(exam__in=exams, kind="chase_result")
        assert chased.count() == size
    assert counts[0] == counts[1], counts
    assert services.overdue_exams(now=later) == 0  # each exam once
    loads = [FollowUpTask.objects.filter(assignee=who).count() for who in (nurse, second)]
    assert abs(loads[0] - loads[1]) <= 1
    assert Notification.objects.filter(kind="task_assigned").count() == 33
