"""Pending exams over the API: recording, the patient data rule, scope, receipt and closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity.models import AccessRecord, FollowUpTask, PendingExam
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import HostSiteFactory, VolunteerFactory, open_day

pytestmark = pytest.mark.django_db

ROW = {
    "patient_ref": "MSP-00421",
    "patient_initials": "JD",
    "patient_birth_year": 1958,
    "kind": "imaging",
    "description": "Radiographie thoracique",
    "order_number": "RX-2026-1",
}


def test_the_volunteer_records_an_exam_with_a_default_expected_date(api, day):
    api.force_authenticate(day.volunteer.user)
    response = api.post("/api/v1/exams/", {"vacation": day.pk, **ROW}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "awaiting"
    assert body["ordered_on"] == day.date.isoformat()
    # Imaging is expected 7 days after the order (settings.RELEVE_EXAM_EXPECTED_DAYS).
    assert body["expected_by"] == (day.date + timedelta(days=7)).isoformat()
    assert body["prescriber"] == day.volunteer.pk
    assert body["site"] == day.site_id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_ref", "1 84 12 75 123 456 78"),
        ("patient_ref", "184127512345678"),
        ("description", "Bilan pour le patient 2 91 02 2A 123 456"),
        ("patient_initials", "Jean Dupont"),
        ("patient_birth_year", 1850),
        ("kind", "astrology"),
    ],
)
def test_bad_patient_data_is_refused_naming_the_field_and_nothing_is_written(
    api, day, field, value
):
    api.force_authenticate(day.volunteer.user)
    response = api.post("/api/v1/exams/", {"vacation": day.pk, **ROW, field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PendingExam.objects.exists()


def test_a_social_security_number_gets_a_clear_french_message(api, day):
    api.force_authenticate(day.volunteer.user)
    response = api.post(
        "/api/v1/exams/",
        {"vacation": day.pk, **ROW, "patient_ref": "2 91 02 2A 123 456 12"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "sécurité sociale" in response.json()["patient_ref"][0]


def test_an_order_number_is_unique_per_site(api, day, site):
    api.force_authenticate(day.volunteer.user)
    assert api.post("/api/v1/exams/", {"vacation": day.pk, **ROW}, format="json").status_code == 201
    again = api.post("/api/v1/exams/", {"vacation": day.pk, **ROW}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_order_number"
    # Another site may use the same number.
    other = open_day(
        HostSiteFactory(territory=site.territory),
        day.date,
        status="booked",
        volunteer=VolunteerFactory(),
    )
    api.force_authenticate(other.volunteer.user)
    response = api.post("/api/v1/exams/", {"vacation": other.pk, **ROW}, format="json")
    assert response.status_code == 201


def test_several_exams_are_recorded_all_or_none(day):
    from django.core.exceptions import ValidationError

    from continuity import services

    rows = [{**ROW, "order_number": "A1"}, {**ROW, "order_number": "A2", "patient_ref": ""}]
    with pytest.raises(ValidationError) as error:
        services.exams_record(vacation=day, by=day.volunteer.user, rows=rows)
    assert "rows.1.patient_ref" in error.value.message_dict
    assert not PendingExam.objects.exists()
    rows[1]["patient_ref"] = "MSP-2"
    assert len(services.exams_record(vacation=day, by=day.volunteer.user, rows=rows)) == 2


def test_exams_cannot_be_recorded_before_the_day(api, site, prescriber):
    tomorrow = open_day(
        site, timezone.localdate() + timedelta(days=1), status="booked", volunteer=prescriber
    )
    api.force_authenticate(prescriber.user)
    response = api.post("/api/v1/exams/", {"vacation": tomorrow.pk, **ROW}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_volunteer_sees_only_the_exams_it_prescribed(api, day, site):
    mine = record_exam(day)
    colleague_day = open_day(site, day.date, status="booked", volunteer=VolunteerFactory())
    theirs = record_exam(colleague_day, order_number="OTHER-1")
    api.force_authenticate(day.volunteer.user)
    listed = api.get("/api/v1/exams/").json()["results"]
    assert [exam["id"] for exam in listed] == [mine.pk]
    assert api.get(f"/api/v1/exams/{theirs.pk}/").status_code == 404


def test_a_nurse_of_site_a_gets_404_on_site_b(api, day, nurse, outsider_site):
    other_day = open_day(outsider_site, day.date, status="booked", volunteer=VolunteerFactory())
    exam_b = record_exam(other_day, order_number="B-1")
    api.force_authenticate(nurse)
    assert api.get(f"/api/v1/exams/{exam_b.pk}/").status_code == 404
    assert api.post(f"/api/v1/exams/{exam_b.pk}/receive/", {"abnormal": True}).status_code == 404
    assert api.get("/api/v1/exams/").json()["count"] == 0


def test_an_abnormal_result_gives_the_nurse_an_urgent_task_within_24_hours(api, day, nurse):
    exam = record_exam(day)
    api.force_authenticate(nurse)
    before = timezone.now()
    response = api.post(
        f"/api/v1/exams/{exam.pk}/receive/",
        {"abnormal": True, "result_summary": "Kaliémie 6,2 mmol/L"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "received"
    task = FollowUpTask.objects.get(exam=exam)
    assert (task.kind, task.priority, task.assignee, task.escalation_level) == (
        "review_result", "urgent", nurse, 0,
    )  # fmt: skip
    assert before + timedelta(hours=23) < task.due_at <= timezone.now() + timedelta(hours=24)
    tasks = api.get("/api/v1/tasks/?assignee=me").json()["results"]
    assert [t["id"] for t in tasks] == [task.pk]


def test_a_normal_result_is_due_in_three_working_days(day, nurse):
    from continuity import services

    exam = record_exam(day)
    friday = timezone.make_aware(timezone.datetime(2026, 11, 20, 10, 0))
    services.exam_receive(exam=exam, by=nurse, abnormal=False, now=friday)
    task = FollowUpTask.objects.get(exam=exam)
    assert task.priority == "normal"
    # Friday 10:00 + 3 working days = Wednesday 10:00 (the weekend doesn't count).
    assert timezone.localtime(task.due_at).strftime("%a %H:%M") == "Wed 10:00"


def test_a_site_without_a_course_nurse_routes_to_the_territory_manager(day, territory_manager):
    from continuity import services

    exam = record_exam(day)
    services.exam_receive(exam=exam, by=territory_manager, abnormal=False)
    task = FollowUpTask.objects.get(exam=exam)
    assert (task.assignee, task.escalation_level) == (territory_manager, 1)


def test_closing_records_the_three_legs_and_who_is_responsible(api, day, nurse):
    from continuity import services

    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=True)
    api.force_authenticate(nurse)
    missing = api.post(f"/api/v1/exams/{exam.pk}/close/", {}, format="json")
    assert missing.status_code == 400
    assert {"responsible", "treating_doctor_status"} <= set(missing.json())
    response = api.post(
        f"/api/v1/exams/{exam.pk}/close/",
        {
            "responsible": "treating_doctor",
            "treating_doctor_status": "elsewhere",
            "review_note": "Transmis au médecin traitant",
            "dmp_deposited": True,
            "sent_to_patient_space": True,
            "sent_to_prescriber": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "closed"
    assert body["dmp_deposited"]
    assert body["sent_to_patient_space"]
    assert body["sent_to_prescriber"]
    assert FollowUpTask.objects.get(exam=exam).status == "done"
    assert exam.history.count() >= 3  # recorded, received, closed: each change kept


def test_a_volunteer_cannot_receive_a_result_it_can_see(api, day):
    exam = record_exam(day)
    api.force_authenticate(day.volunteer.user)
    assert api.post(f"/api/v1/exams/{exam.pk}/receive/", {"abnormal": False}).status_code == 403


def test_listing_exams_writes_an_access_record(api, day, nurse):
    record_exam(day)
    api.force_authenticate(nurse)
    api.get("/api/v1/exams/")
    record = AccessRecord.objects.get()
    assert (record.user, record.what, record.count) == (nurse, "exams:list", 1)


def test_a_secretary_of_another_site_in_the_territory_sees_nothing(api, day, site):
    record_exam(day)
    other = member(Role.SECRETARY, site=HostSiteFactory(territory=site.territory))
    api.force_authenticate(other)
    assert api.get("/api/v1/exams/").json()["count"] == 0
