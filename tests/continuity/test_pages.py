"""The follow-up pages: the nurse's worklist and a task, the exam tracker and an exam, the
quarantine, a volunteer's follow-ups, closing a day, and the handovers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from continuity import services
from continuity.models import (
    AccessRecord,
    ContactRequest,
    FollowUpTask,
    Handover,
    HandoverRead,
    IncomingResult,
    PendingExam,
)
from continuity.validators import reject_nir
from tests.conftest import member
from tests.factories import HostSiteFactory, VolunteerFactory, open_day
from vacations.models import PARIS

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 3, 10, 0, tzinfo=PARIS)  # a Wednesday
YESTERDAY = date(2027, 3, 2)
NIR = "1 84 12 75 123 456 78"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def nurse(site):
    return member(Role.COURSE_NURSE, site=site)


@pytest.fixture
def prescriber(db):
    return VolunteerFactory()


@pytest.fixture
def day(site, prescriber):
    return open_day(site, YESTERDAY, status="booked", volunteer=prescriber)


@pytest.fixture
def elsewhere(outsider_site):
    """Another site's nurse, day, exam (received: its nurse has a task) and handover."""
    nurse = member(Role.COURSE_NURSE, site=outsider_site)
    day = open_day(outsider_site, YESTERDAY, status="booked", volunteer=VolunteerFactory())
    exam = record(day, order_number="AILLEURS-1")
    services.exam_receive(exam=exam, by=nurse, abnormal=False)
    handover = services.handover_write(vacation=day, by=nurse, text="Rien de particulier.")
    incoming = quarantined(outsider_site)
    return {"nurse": nurse, "exam": exam, "task": exam.tasks.get(), "handover": handover,
            "incoming": incoming}  # fmt: skip


def row(**fields) -> dict:
    return {
        "patient_ref": "MSP-00421",
        "patient_initials": "JD",
        "patient_birth_year": 1958,
        "kind": "biology",
        "description": "Ionogramme, créatinine",
        "order_number": "CMD-1",
        **fields,
    }


def record(day, by=None, **fields) -> PendingExam:
    (exam,) = services.exams_record(vacation=day, by=by or day.volunteer.user, rows=[row(**fields)])
    return exam


def quarantined(site, **fields) -> IncomingResult:
    return IncomingResult.objects.create(
        format="hl7v2",
        raw=b"MSH|^~\\&|LAB",
        site=site,
        outcome="quarantined",
        reason="unknown_order",
        order_number=fields.pop("order_number", "INCONNU-9"),
        patient_ref="MSP-00421",
        summary="Kaliémie 6,1 mmol/L",
        abnormal=True,
        **fields,
    )


def bulk_exams(day, count: int, *, status="awaiting", **fields) -> list[PendingExam]:
    """`count` exams of `day` in one query (no history: test data only)."""
    by = day.volunteer.user
    return PendingExam.objects.bulk_create(
        PendingExam(
            vacation=day,
            site_id=day.site_id,
            prescriber_id=day.volunteer_id,
            created_by=by,
            patient_ref=f"MSP-{n:05d}",
            patient_initials="AB",
            patient_birth_year=1950,
            kind="biology",
            description="NFS",
            order_number=f"BULK-{n}",
            ordered_on=day.date - timedelta(days=n % 20),
            expected_by=day.date + timedelta(days=3 - n % 7),
            status=status,
            **fields,
        )  # fmt: skip
        for n in range(count)
    )


def bulk_tasks(exams, *, assignee) -> None:
    FollowUpTask.objects.bulk_create(
        FollowUpTask(
            site_id=exam.site_id,
            exam=exam,
            kind="review_result",
            title=f"Relire {exam.pk}",
            assignee=assignee,
            due_at=NOW + timedelta(hours=(n % 48) - 24),
            priority="urgent" if n % 5 == 0 else "normal",
            escalation_level=n % 3,
        )  # fmt: skip
        for n, exam in enumerate(exams)
    )


def french(message) -> str:
    with translation.override("fr"):
        return str(message)


# --- Scope ------------------------------------------------------------------------------------


def test_a_nurse_sees_its_sites_tasks_and_gets_404_on_another_sites(client, day, nurse, elsewhere):
    exam = record(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=False)
    client.force_login(nurse)

    page = client.get(reverse("continuity_worklist"))

    assert page.status_code == 200
    assert [t.exam_id for t in page.context["page_obj"]] == [exam.pk]
    assert "AILLEURS-1" not in page.content.decode()
    for url in (
        reverse("continuity_task", args=[elsewhere["task"].pk]),
        reverse("continuity_exam", args=[elsewhere["exam"].pk]),
        reverse("continuity_handover", args=[elsewhere["handover"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    for name, data in (
        ("continuity_quarantine_match", {f"match-{elsewhere['incoming'].pk}-order_number": "X"}),
        ("continuity_quarantine_dismiss", {f"dismiss-{elsewhere['incoming'].pk}-note": "Doublon"}),
        ("continuity_task_done", {"note": "fait"}),
    ):
        pk = elsewhere["task"].pk if name == "continuity_task_done" else elsewhere["incoming"].pk
        assert client.post(reverse(name, args=[pk]), data).status_code == 404
    assert client.post(
        reverse("continuity_exam_close", args=[elsewhere["exam"].pk]), {"responsible": "volunteer"}
    ).status_code == 404  # fmt: skip
    elsewhere["task"].refresh_from_db()
    elsewhere["incoming"].refresh_from_db()
    assert elsewhere["task"].status == "open"
    assert elsewhere["incoming"].resolved_at is None
    quarantine = client.get(reverse("continuity_quarantine"))
    assert list(quarantine.context["page_obj"]) == []


def test_an_escalated_task_reaches_the_territory_manager_worklist(
    client, day, nurse, territory_manager, ars_manager
):
    exam = record(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    task = exam.tasks.get()
    with time_machine.travel(task.due_at + timedelta(minutes=5), tick=False):
        services.escalate_tasks()
        client.force_login(territory_manager)
        page = client.get(reverse("continuity_worklist"), {"mine": "on"})
        detail = client.get(reverse("continuity_task", args=[task.pk]))

    assert [t.pk for t in page.context["page_obj"]] == [task.pk]
    assert 'data-level="1"' in page.content.decode()
    assert detail.status_code == 200
    assert len(detail.context["escalations"]) == 1
    client.force_login(ars_manager)  # the site's region: it reads it
    assert client.get(reverse("continuity_task", args=[task.pk])).status_code == 200
    client.force_login(member(Role.ARS_MANAGER, region_id="76"))  # another region: 404
    assert client.get(reverse("continuity_task", args=[task.pk])).status_code == 404


# --- The worklist -----------------------------------------------------------------------------


def test_the_worklist_puts_urgent_first_marks_overdue_rows_and_counts_them(client, day, nurse):
    exams = bulk_exams(day, 3)
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(site=day.site, exam=exams[0], kind="review_result", title="Normal late",
                         assignee=nurse, due_at=NOW - timedelta(hours=2)),
            FollowUpTask(site=day.site, exam=exams[1], kind="review_result", title="Urgent",
                         assignee=nurse, due_at=NOW + timedelta(hours=5), priority="urgent"),
            FollowUpTask(site=day.site, exam=exams[2], kind="review_result", title="Normal",
                         assignee=nurse, due_at=NOW + timedelta(hours=1)),
            FollowUpTask(site=day.site, kind="other", title="Finished", status="done",
                         due_at=NOW - timedelta(days=3)),
        ]
    )  # fmt: skip
    client.force_login(nurse)

    page = client.get(reverse("continuity_worklist"))

    tasks = list(page.context["page_obj"])
    assert [t.title for t in tasks] == ["Urgent", "Normal late", "Normal"]
    assert [t.late for t in tasks] == [False, True, False]
    assert page.context["counts"] == {"active": 3, "overdue": 1, "urgent": 1}
    html = page.content.decode()
    late_row = html.split(f'data-task="{tasks[1].pk}"')[1].split("</tr>")[0]
    assert 'class="releve-overdue"' in late_row
    assert 'data-testid="overdue"' in late_row
    assert (
        'data-testid="overdue"' not in html.split(f'data-task="{tasks[2].pk}"')[1].split("</tr>")[0]
    )
    assert AccessRecord.objects.filter(user=nurse, what="worklist", count=3).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "in_progress"}, {"started"}),
        ({"kind": "chase_result"}, {"chase"}),
        ({"mine": "on"}, {"started", "chase"}),
        ({"overdue": "on"}, {"chase"}),
        ({"site": "other"}, {"other site"}),
        ({}, {"started", "chase", "unassigned", "other site"}),
    ],
)
def test_the_worklist_filters(client, day, nurse, query, expected):
    other_site = HostSiteFactory(territory=day.site.territory)
    member(Role.COURSE_NURSE, site=other_site, user=nurse)
    exams = bulk_exams(day, 3)
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(site=day.site, exam=exams[0], kind="review_result", title="started",
                         assignee=nurse, status="in_progress", due_at=NOW + timedelta(days=1)),
            FollowUpTask(site=day.site, exam=exams[1], kind="chase_result", title="chase",
                         assignee=nurse, due_at=NOW - timedelta(days=1)),
            FollowUpTask(site=day.site, exam=exams[2], kind="review_result", title="unassigned",
                         due_at=NOW + timedelta(days=2)),
            FollowUpTask(site=other_site, kind="other", title="other site",
                         due_at=NOW + timedelta(days=2)),
        ]
    )  # fmt: skip
    if query.get("site") == "other":
        query = {"site": other_site.pk}
    client.force_login(nurse)

    page = client.get(reverse("continuity_worklist"), query)

    assert {t.title for t in page.context["page_obj"]} == expected
    outsider = HostSiteFactory(territory__department_id="12")
    refused = client.get(reverse("continuity_worklist"), {"site": outsider.pk})
    assert "site" in refused.context["filters"].errors


@pytest.mark.parametrize("size", [0, 10, 1000])
def test_the_worklist_costs_the_same_queries_whatever_the_number_of_tasks(
    client, django_assert_num_queries, day, nurse, size
):
    bulk_tasks(bulk_exams(day, size), assignee=nurse)
    client.force_login(nurse)
    client.get(reverse("continuity_worklist"))

    # session, user, roles, sites (filter), counts, page count, page, access record, the bell
    with django_assert_num_queries(9):
        response = client.get(reverse("continuity_worklist"), {"page": 2 if size > 20 else 1})

    assert response.status_code == 200
    assert response.context["counts"]["active"] == size
    assert len(response.context["page_obj"].object_list) == min(size, 20)


# --- A task -----------------------------------------------------------------------------------


def test_the_nurse_starts_a_task_asks_the_prescriber_then_closes_it(client, day, nurse):
    exam = record(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True, result_summary="Kaliémie 6,1")
    task = exam.tasks.get()
    client.force_login(nurse)

    page = client.get(reverse("continuity_task", args=[task.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert all(text in html for text in ("MSP-00421", "JD", "1958", "CMD-1", "Kaliémie 6,1"))
    assert AccessRecord.objects.filter(user=nurse, what="task", object_id=str(task.pk)).exists()

    client.post(reverse("continuity_task_start", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == "in_progress"

    blank = client.post(reverse("continuity_task_contact", args=[task.pk]), {"question": " "})
    assert blank.status_code == 200
    assert "question" in blank.context["contact_form"].errors
    nir = client.post(
        reverse("continuity_task_contact", args=[task.pk]), {"question": f"Patient {NIR} ?"}
    )
    assert "question" in nir.context["contact_form"].errors
    assert not ContactRequest.objects.exists()
    asked = client.post(
        reverse("continuity_task_contact", args=[task.pk]), {"question": "Contrôle à J7 ?"}
    )
    assert asked.status_code == 302
    task.refresh_from_db()
    assert task.status == "waiting"
    assert ContactRequest.objects.get().volunteer == day.volunteer

    done = client.post(reverse("continuity_task_done", args=[task.pk]), {"note": "Vu au tél."})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.note, task.done_by) == ("done", "Vu au tél.", nurse)
    again = client.post(reverse("continuity_task_done", args=[task.pk]), {"note": "Bis"})
    assert again.status_code == 200
    assert again.context["done_form"].refusal_code == "invalid_transition"


def test_a_task_without_an_exam_offers_no_question_to_a_prescriber(client, site, nurse):
    task = FollowUpTask.objects.create(
        site=site, kind="other", title="Appeler le labo", due_at=NOW + timedelta(days=1)
    )
    client.force_login(nurse)

    page = client.get(reverse("continuity_task", args=[task.pk]))
    refused = client.post(reverse("continuity_task_contact", args=[task.pk]), {"question": "?"})

    assert page.context["contact_form"] is None
    assert refused.context["contact_form"].refusal_code == "invalid_transition"
    assert not ContactRequest.objects.exists()


# --- The exam tracker -------------------------------------------------------------------------


def test_the_exam_tracker_shows_each_view_in_its_order(client, day, nurse):
    old = record(day, order_number="OLD", kind="ecg")  # expected 04/03: not yet late
    PendingExam.objects.filter(pk=old.pk).update(
        ordered_on=date(2027, 2, 20), expected_by=date(2027, 2, 22)
    )
    recent = record(day, order_number="RECENT", kind="specialist")
    done = record(day, order_number="DONE")
    services.exam_receive(exam=done, by=nurse, abnormal=False)
    client.force_login(nurse)
    url = reverse("continuity_exams")

    awaiting = client.get(url)
    overdue = client.get(url, {"view": "overdue"})
    received = client.get(url, {"view": "received"})
    every = client.get(url, {"view": "all"})

    assert [e.order_number for e in awaiting.context["page_obj"]] == ["OLD", "RECENT"]
    assert [e.age_days for e in awaiting.context["page_obj"]] == [11, 1]
    assert [e.order_number for e in overdue.context["page_obj"]] == ["OLD"]
    assert 'class="releve-overdue"' in overdue.content.decode()
    assert [e.order_number for e in received.context["page_obj"]] == ["DONE"]
    assert {e.order_number for e in every.context["page_obj"]} == {"OLD", "RECENT", "DONE"}
    counts = {tab["view"]: tab["count"] for tab in every.context["tabs"]}
    assert counts == {
        "awaiting": 2, "overdue": 1, "received": 1, "leg_pending": 0, "closed": 0, "all": 3
    }  # fmt: skip
    assert recent.pk  # listed above
    assert AccessRecord.objects.filter(user=nurse, what="exams").count() == 4


@pytest.mark.parametrize("size", [0, 10, 1000])
def test_the_exam_tracker_costs_the_same_queries_whatever_the_number_of_exams(
    client, django_assert_num_queries, day, nurse, size
):
    bulk_exams(day, size)
    client.force_login(nurse)
    client.get(reverse("continuity_exams"))

    # session, user, roles, sites (filter), counts, page count, page (with whether a leg is
    # pending), access record, the bell
    with django_assert_num_queries(9):
        response = client.get(reverse("continuity_exams"), {"view": "awaiting", "page": 2})

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == size
    with django_assert_num_queries(10):  # and the chosen site (the filter checks it)
        client.get(reverse("continuity_exams"), {"view": "overdue", "site": day.site_id})


# --- An exam ----------------------------------------------------------------------------------


def test_the_nurse_records_a_result_by_hand_and_an_urgent_task_opens(client, day, nurse):
    exam = record(day)
    client.force_login(nurse)
    url = reverse("continuity_exam_receive", args=[exam.pk])

    missing = client.post(url, {"result_summary": "K+ 6,1"})
    nir = client.post(url, {"abnormal": "yes", "result_summary": f"Patient {NIR}"})
    exam.refresh_from_db()
    assert "abnormal" in missing.context["receive_form"].errors
    assert nir.context["receive_form"].errors["result_summary"] == [french(nir_message())]
    assert exam.status == "awaiting"

    response = client.post(url, {"abnormal": "yes", "result_summary": "K+ 6,1"})

    assert response.status_code == 302
    exam.refresh_from_db()
    assert (exam.status, exam.abnormal, exam.result_summary) == ("received", True, "K+ 6,1")
    task = exam.tasks.get()
    assert (task.priority, task.assignee) == ("urgent", nurse)


def nir_message() -> str:
    try:
        reject_nir(NIR)
    except Exception as exc:  # noqa: BLE001 - the validator's own message
        return exc.messages[0]
    raise AssertionError


def test_closing_an_exam_from_the_page_records_the_three_legs_and_the_responsible(
    client, day, nurse
):
    exam = record(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=False)
    client.force_login(nurse)
    page = client.get(reverse("continuity_exam", args=[exam.pk]))
    assert page.context["close_form"] is not None
    assert page.context["receive_form"] is None
    url = reverse("continuity_exam_close", args=[exam.pk])

    incomplete = client.post(url, {"dmp_deposited": "on", "treating_doctor_status": "elsewhere"})
    exam.refresh_from_db()
    assert incomplete.status_code == 200
    assert "responsible" in incomplete.context["close_form"].errors
    assert exam.status == "received"

    response = client.post(
        url,
        {
            "responsible": "treating_doctor",
            "treating_doctor_status": "elsewhere",
            "dmp_deposited": "on",
            "sent_to_patient_space": "on",
            "sent_to_prescriber": "on",
            "review_note": "Courrier au médecin traitant.",
        },
    )

    assert response.status_code == 302
    exam.refresh_from_db()
    assert exam.status == "closed"
    assert exam.closed_by == nurse
    assert (exam.responsible, exam.treating_doctor_status) == ("treating_doctor", "elsewhere")
    assert (exam.dmp_deposited, exam.sent_to_patient_space, exam.sent_to_prescriber) == (
        True,
        True,
        True,
    )
    assert exam.review_note == "Courrier au médecin traitant."
    assert exam.tasks.get().status == "done"


def test_the_prescriber_sees_its_exam_but_only_the_site_staff_act_on_it(
    client, day, nurse, territory_manager
):
    exam = record(day)
    for user in (day.volunteer.user, territory_manager):
        client.force_login(user)
        page = client.get(reverse("continuity_exam", args=[exam.pk]))
        assert page.status_code == 200
        assert page.context["receive_form"] is None
        assert page.context["cancel_form"] is None
        receive = client.post(
            reverse("continuity_exam_receive", args=[exam.pk]), {"abnormal": "no"}
        )
        cancel = client.post(reverse("continuity_exam_cancel", args=[exam.pk]), {"reason": "x"})
        assert (receive.status_code, cancel.status_code) == (403, 403)
    client.force_login(VolunteerFactory().user)
    assert client.get(reverse("continuity_exam", args=[exam.pk])).status_code == 404
    exam.refresh_from_db()
    assert exam.status == "awaiting"

    client.force_login(nurse)
    client.post(reverse("continuity_exam_cancel", args=[exam.pk]), {"reason": "Non réalisé"})
    exam.refresh_from_db()
    assert (exam.status, exam.review_note) == ("cancelled", "Non réalisé")


# --- Quarantine -------------------------------------------------------------------------------


def test_the_nurse_matches_a_quarantined_result_to_an_exam_by_its_order_number(
    client, day, nurse, elsewhere
):
    exam = record(day, order_number="CMD-77")
    incoming = quarantined(day.site)
    client.force_login(nurse)
    page = client.get(reverse("continuity_quarantine"))
    assert [m.pk for m in page.context["page_obj"]] == [incoming.pk]
    assert "INCONNU-9" in page.content.decode()
    assert AccessRecord.objects.filter(user=nurse, what="quarantine", count=1).exists()
    url = reverse("continuity_quarantine_match", args=[incoming.pk])

    # Another site's exam is not one to match: the same error as an unknown number.
    other = client.post(url, {f"match-{incoming.pk}-exam": elsewhere["exam"].pk})
    unknown = client.post(url, {f"match-{incoming.pk}-order_number": "AILLEURS-1"})
    assert "exam" in other.context["page_obj"][0].match_form.errors
    assert "order_number" in unknown.context["page_obj"][0].match_form.errors
    incoming.refresh_from_db()
    assert incoming.outcome == "quarantined"

    response = client.post(url, {f"match-{incoming.pk}-order_number": " CMD-77 "})

    assert response.status_code == 302
    incoming.refresh_from_db()
    exam.refresh_from_db()
    assert (incoming.outcome, incoming.exam, incoming.resolved_by) == ("matched", exam, nurse)
    assert (exam.status, exam.abnormal) == ("received", True)


def test_the_nurse_sets_a_result_aside_with_a_reason_and_reads_unreadable_ones(
    client, site, nurse, prescriber
):
    incoming = quarantined(site)
    IncomingResult.objects.create(
        format="fhir", raw=b"{", site=site, outcome="invalid", error="JSON illisible"
    )
    client.force_login(nurse)
    url = reverse("continuity_quarantine_dismiss", args=[incoming.pk])

    blank = client.post(url, {f"dismiss-{incoming.pk}-note": ""})
    assert "note" in blank.context["page_obj"][0].dismiss_form.errors
    client.post(url, {f"dismiss-{incoming.pk}-note": "Doublon du message précédent"})
    incoming.refresh_from_db()
    assert incoming.resolved_by == nurse
    assert incoming.error == "Doublon du message précédent"
    invalid = client.get(reverse("continuity_quarantine"), {"view": "invalid"})
    assert "JSON illisible" in invalid.content.decode()
    assert list(client.get(reverse("continuity_quarantine")).context["page_obj"]) == []

    # A volunteer is no site staff: it may not resolve anything.
    other = quarantined(site, order_number="AUTRE")
    client.force_login(prescriber.user)
    assert client.post(
        reverse("continuity_quarantine_dismiss", args=[other.pk]), {"note": "x"}
    ).status_code == 404  # fmt: skip


# --- A volunteer's follow-ups -----------------------------------------------------------------


def test_the_volunteer_sees_only_its_exams_and_answers_its_question(client, day, nurse, prescriber):
    mine = record(day, order_number="MINE")
    colleague_day = open_day(day.site, date(2027, 3, 1), status="booked",
                             volunteer=VolunteerFactory())  # fmt: skip
    record(colleague_day, order_number="THEIRS")
    services.exam_receive(exam=mine, by=nurse, abnormal=True)
    task = mine.tasks.get()
    question = services.contact_prescriber(task=task, by=nurse, question="On refait le iono ?")
    client.force_login(prescriber.user)

    page = client.get(reverse("continuity_my_followups"))

    assert [e.order_number for e in page.context["page_obj"]] == ["MINE"]
    html = page.content.decode()
    assert f'id="question-{question.pk}"' in html
    assert "On refait le iono ?" in html
    assert "THEIRS" not in html
    assert AccessRecord.objects.filter(user=prescriber.user, what="my_followups").exists()
    url = reverse("continuity_contact_answer", args=[question.pk])
    # The site that asked sees the question but may not answer it (403, as the API says);
    # another volunteer does not even see it (404).
    for intruder, status in ((nurse, 403), (VolunteerFactory().user, 404)):
        client.force_login(intruder)
        assert client.post(url, {"answer": "Oui"}).status_code == status
    client.force_login(prescriber.user)
    blank = client.post(url, {"answer": "  "})
    assert blank.status_code == 200
    assert "answer" in blank.context["waiting"][0].form.errors

    response = client.post(url, {"answer": "Oui, dans 48 h."})

    assert response.status_code == 302
    assert response.url.endswith(f"#question-{question.pk}")
    question.refresh_from_db()
    task.refresh_from_db()
    assert (question.status, question.answer) == ("answered", "Oui, dans 48 h.")
    assert task.status == "in_progress"
    assert client.get(reverse("continuity_my_followups")).context["waiting"] == []
    again = client.post(url, {"answer": "Finalement non."})  # a second tab, say
    assert again.status_code == 200
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    question.refresh_from_db()
    assert question.answer == "Oui, dans 48 h."


# --- Closing a day ----------------------------------------------------------------------------


def formset_data(*rows: dict, extra: int = 1) -> dict:
    data = {
        "form": "exams",
        "exams-TOTAL_FORMS": str(len(rows) + extra),
        "exams-INITIAL_FORMS": "0",
        "exams-MIN_NUM_FORMS": "0",
        "exams-MAX_NUM_FORMS": "30",
    }
    for index, fields in enumerate(rows):
        data.update({f"exams-{index}-{key}": value for key, value in fields.items()})
    return data


def test_the_day_closure_records_two_exams_at_once(client, day, prescriber):
    client.force_login(prescriber.user)
    url = reverse("continuity_day_closure", args=[day.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["can_record"]
    assert len(page.context["missing"]) == 2

    response = client.post(
        url,
        formset_data(
            row(order_number="A-1"),
            row(order_number="A-2", kind="imaging", expected_by="2027-03-20", performer="Cabinet"),
        ),
    )

    assert response.status_code == 302
    first, second = PendingExam.objects.order_by("order_number")
    assert (first.kind, first.expected_by) == ("biology", date(2027, 3, 5))  # 3 days: default
    assert (second.expected_by, second.performer) == (date(2027, 3, 20), "Cabinet")
    assert first.prescriber == prescriber
    assert first.vacation == day
    page = client.get(url)
    assert len(page.context["recorded"]) == 2
    assert len(page.context["missing"]) == 1  # the handover is still to write


def test_a_row_with_a_social_security_number_is_refused_naming_the_field_and_nothing_is_recorded(
    client, day, prescriber
):
    client.force_login(prescriber.user)

    response = client.post(
        reverse("continuity_day_closure", args=[day.pk]),
        formset_data(row(order_number="A-1"), row(order_number="A-2", patient_ref=NIR)),
    )

    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert forms[0].errors == {}
    assert forms[1].errors["patient_ref"] == [french(nir_message())]
    html = response.content.decode()
    assert 'href="#id_exams-1-patient_ref"' in html  # the summary names the row and field
    assert not PendingExam.objects.exists()


def test_an_order_number_already_used_marks_its_row(client, day, prescriber):
    record(day, order_number="A-1")
    client.force_login(prescriber.user)

    response = client.post(
        reverse("continuity_day_closure", args=[day.pk]),
        formset_data(row(order_number="B-1"), row(order_number="A-1")),
    )

    forms = response.context["formset"].forms
    assert "order_number" in forms[1].errors
    assert not forms[0].errors
    assert PendingExam.objects.count() == 1


def test_the_handover_is_written_from_the_closure_page_and_the_day_can_close(
    client, day, prescriber
):
    record(day)
    client.force_login(prescriber.user)
    url = reverse("continuity_day_closure", args=[day.pk])

    nir = client.post(url, {"form": "handover", "text": "RAS", "patient_refs": f"MSP-1\n{NIR}"})
    assert "patient_refs" in nir.context["handover_form"].errors
    client.post(url, {"form": "handover", "text": "Rappeler M. D.", "patient_refs": "MSP-1\nMSP-2"})
    handover = Handover.objects.get()
    assert (handover.patient_refs, handover.author) == (["MSP-1", "MSP-2"], prescriber.user)
    page = client.get(url)
    assert page.context["missing"] == []
    assert page.context["can_complete"]

    done = client.post(
        reverse("vacation_complete_page", args=[day.pk]),
        {"consultations_count": 14, "next": url},
    )
    assert done.url == url
    day.refresh_from_db()
    assert day.status == "done"


def test_only_the_days_volunteer_and_site_staff_close_it(
    client, day, nurse, territory_manager, secretary
):
    url = reverse("continuity_day_closure", args=[day.pk])
    client.force_login(territory_manager)
    assert client.get(url).status_code == 403
    client.force_login(VolunteerFactory().user)
    assert client.get(url).status_code == 404
    client.force_login(secretary)
    assert client.post(url, formset_data(row())).status_code == 302
    assert client.get(url).status_code == 200
    assert AccessRecord.objects.filter(user=secretary, what="day_closure", count=1).exists()
    future = open_day(day.site, date(2027, 3, 10), status="booked", volunteer=day.volunteer)
    page = client.get(reverse("continuity_day_closure", args=[future.pk]))
    assert page.context["too_early"]
    assert not page.context["can_record"]


# --- Handovers --------------------------------------------------------------------------------


def test_reading_the_handovers_records_each_reading(client, day, nurse, prescriber, elsewhere):
    handover = services.handover_write(vacation=day, by=prescriber.user, text="Rappeler MSP-1")
    next_volunteer = VolunteerFactory()
    open_day(day.site, date(2027, 3, 9), status="booked", volunteer=next_volunteer)

    for reader in (nurse, next_volunteer.user, nurse):
        client.force_login(reader)
        page = client.get(reverse("continuity_handovers"))
        assert [h.pk for h in page.context["page_obj"]] == [handover.pk]

    reads = HandoverRead.objects.filter(handover=handover)
    assert sorted(r.reader_id for r in reads) == sorted(
        [nurse.pk, nurse.pk, next_volunteer.user.pk]
    )
    assert AccessRecord.objects.filter(what="handovers").count() == 3
    client.force_login(VolunteerFactory().user)  # no day there: nothing to read
    assert list(client.get(reverse("continuity_handovers")).context["page_obj"]) == []
    client.force_login(nurse)
    detail = client.get(reverse("continuity_handover", args=[handover.pk]))
    assert detail.status_code == 200
    assert HandoverRead.objects.filter(handover=handover, reader=nurse).count() == 3
    assert not HandoverRead.objects.filter(handover=elsewhere["handover"]).exists()


def test_every_page_requires_signing_in(client, day):
    for name, args in (
        ("continuity_worklist", []),
        ("continuity_exams", []),
        ("continuity_quarantine", []),
        ("continuity_my_followups", []),
        ("continuity_handovers", []),
        ("continuity_day_closure", [day.pk]),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302
        assert "/accounts/login/" in response.url


# --- Every list costs the same whatever its size ----------------------------------------------


def bulk_questions(day, count: int, *, nurse) -> None:
    exams = bulk_exams(day, count, status="received")
    bulk_tasks(exams, assignee=nurse)
    ContactRequest.objects.bulk_create(
        ContactRequest(
            task=task,
            volunteer=day.volunteer,
            asked_by=nurse,
            question=f"Question {task.pk}",
            asked_at=NOW - timedelta(hours=1),
            due_at=NOW + timedelta(hours=task.pk % 50),
            status="waiting" if task.pk % 2 else "answered",
            answer="" if task.pk % 2 else "Réponse",
        )  # fmt: skip
        for task in FollowUpTask.objects.filter(exam__in=exams)
    )


@pytest.mark.parametrize("size", [3, 60])
def test_the_other_lists_cost_the_same_queries_whatever_their_size(
    client, django_assert_num_queries, day, nurse, size
):
    IncomingResult.objects.bulk_create(
        IncomingResult(
            format="hl7v2",
            raw=b"MSH",
            site=day.site,
            outcome="quarantined",
            reason="unknown_order",
            order_number=f"X-{n}",
            patient_ref=f"P-{n}",
        )  # fmt: skip
        for n in range(size)
    )
    Handover.objects.bulk_create(
        Handover(vacation=day, author=nurse, text=f"Note {n}", patient_refs=[f"P-{n}"])
        for n in range(size)
    )
    bulk_questions(day, size, nurse=nurse)
    client.force_login(nurse)
    client.get(reverse("continuity_worklist"))

    # session, user, roles (with the staff sites: the rules read them), counts, page count,
    # page, exams to pick, access record, the bell
    with django_assert_num_queries(9):
        quarantine = client.get(reverse("continuity_quarantine"))
    # session, user, roles, sites (filter), page count, page, reads, access record, the bell
    with django_assert_num_queries(9):
        handovers = client.get(reverse("continuity_handovers"))
    client.force_login(day.volunteer.user)
    # session, user, roles, profile, exams (count, page), waiting, answered, access record, bell
    with django_assert_num_queries(10):
        followups = client.get(reverse("continuity_my_followups"))

    assert quarantine.context["counts"]["quarantined"] == size
    assert len(handovers.context["page_obj"].object_list) == min(size, 20)
    assert HandoverRead.objects.count() == min(size, 20)
    assert len(followups.context["waiting"]) + len(followups.context["answered"]) > 0


def test_a_follow_up_page_keeps_the_site_layout_and_its_navigation(client, nurse):
    """The follow-up pages fill a block named `page`; the page skeleton once had a block of that
    name too, and a follow-up page then replaced the layout: no section navigation, no messages
    (test_the_volunteer_sees_only_its_exams_and_answers_its_question shows those)."""
    client.force_login(nurse)
    with translation.override("fr"):
        nav_label = translation.gettext("Follow-up of care")
    html = client.get(reverse("continuity_worklist")).content.decode()
    assert f'aria-label="{nav_label}"' in html
    assert 'id="htmx-error"' in html
