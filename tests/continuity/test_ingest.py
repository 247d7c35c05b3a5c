"""Result messages over the API: stored raw first, then matched (201), quarantined (202) or
invalid (422) — never a 500, never lost, and a replay changes nothing."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from accounts.roles import Role
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.factories import VolunteerFactory, open_day

pytestmark = pytest.mark.django_db

HL7 = "application/hl7-v2"
FHIR = "application/fhir+json"


def post(api, kind: str, body: bytes, content_type: str):
    return api.generic("POST", f"/api/v1/results/{kind}/", body, content_type=content_type)


@pytest.fixture
def sender(site):
    """The lab interface account of the site (a site secretary's scope)."""
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def exams(day):
    """The exams the sample messages answer (their order numbers and patients)."""
    rows = {
        "CMD-2026-000142": "MSP-00421",
        "CMD-2026-000143": "MSP-00388",
        "CMD-2026-000145": "MSP-00388",
        "CMD-2026-000150": "MSP-00421",
        "CMD-2026-000160": "MSP-00733",
        "RX-2026-77812": "MSP-00502",
    }
    return {
        number: record_exam(day, order_number=number, patient_ref=ref)
        for number, ref in rows.items()
    }


@pytest.mark.parametrize(
    ("name", "order_number", "abnormal", "priority"),
    [
        ("oru_normal_panel.hl7", "CMD-2026-000142", False, "normal"),
        ("oru_abnormal_flags.hl7", "CMD-2026-000145", True, "urgent"),
        ("oru_latin1.hl7", "CMD-2026-000160", None, None),
        ("oru_radiology_filler_only.hl7", "RX-2026-77812", None, None),
    ],
)
def test_an_hl7_result_is_matched_on_its_order_number(
    api, sender, nurse, exams, name, order_number, abnormal, priority
):
    api.force_authenticate(sender)
    response = post(api, "hl7", sample(name), HL7)
    assert response.status_code == 201, response.json()
    exam = exams[order_number]
    assert response.json()["exam"] == exam.pk
    exam.refresh_from_db()
    assert exam.status == "received"
    assert exam.result_summary
    task = FollowUpTask.objects.get(exam=exam, kind="review_result")
    assert task.assignee == nurse
    if abnormal is not None:
        assert exam.abnormal is abnormal
        assert task.priority == priority
    incoming = IncomingResult.objects.get(pk=response.json()["incoming"])
    assert bytes(incoming.raw) == sample(name)  # kept exactly as it came


def test_posting_the_same_hl7_message_twice_creates_one_task(api, sender, nurse, exams):
    api.force_authenticate(sender)
    first = post(api, "hl7", sample("oru_abnormal_flags.hl7"), HL7)
    second = post(api, "hl7", sample("oru_abnormal_flags.hl7"), HL7)
    assert (first.status_code, second.status_code) == (201, 201)
    assert FollowUpTask.objects.filter(exam=exams["CMD-2026-000145"]).count() == 1
    assert IncomingResult.objects.count() == 2  # both stored
    assert (
        IncomingResult.objects.get(pk=second.json()["incoming"]).replay_of_id
        == (first.json()["incoming"])
    )


def test_a_fhir_report_with_based_on_only_is_matched(api, sender, nurse, exams):
    api.force_authenticate(sender)
    response = post(api, "fhir", sample("fhir_report_based_on.json"), FHIR)
    assert response.status_code == 201, response.json()
    assert response.json()["exam"] == exams["CMD-2026-000143"].pk


def test_an_amended_fhir_report_updates_the_exam_and_reopens_its_task(api, sender, nurse, exams):
    from continuity import services

    api.force_authenticate(sender)
    assert post(api, "fhir", sample("fhir_report_identifier.json"), FHIR).status_code == 201
    exam = exams["CMD-2026-000142"]
    task = FollowUpTask.objects.get(exam=exam)
    services.task_done(task=task, by=nurse, note="Vu")
    amended = post(api, "fhir", sample("fhir_report_amended.json"), "application/json")
    assert amended.status_code == 201, amended.json()
    task.refresh_from_db()
    exam.refresh_from_db()
    assert task.status == "open"
    assert exam.status == "received"
    assert FollowUpTask.objects.filter(exam=exam).count() == 1


def test_an_unknown_order_number_is_quarantined_with_a_task_for_the_nurse(api, sender, nurse):
    api.force_authenticate(sender)
    response = post(api, "hl7", sample("oru_normal_panel.hl7"), HL7)
    assert response.status_code == 202
    assert response.json()["status"] == "quarantined"
    incoming = IncomingResult.objects.get()
    assert (incoming.outcome, incoming.reason) == ("quarantined", "unknown_order")
    task = FollowUpTask.objects.get(incoming=incoming)
    assert (task.kind, task.assignee) == ("resolve_quarantine", nurse)
    # A replay of a quarantined message adds no second task.
    assert post(api, "hl7", sample("oru_normal_panel.hl7"), HL7).status_code == 202
    assert FollowUpTask.objects.count() == 1
    api.force_authenticate(nurse)
    listed = api.get("/api/v1/results/quarantine/").json()["results"]
    assert [row["id"] for row in listed] == [incoming.pk]


def test_a_patient_mismatch_is_quarantined(api, sender, nurse, day):
    record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-99999")
    api.force_authenticate(sender)
    response = post(api, "hl7", sample("oru_normal_panel.hl7"), HL7)
    assert response.status_code == 202
    assert IncomingResult.objects.get().reason == "patient_mismatch"
    assert PendingExam.objects.get().status == "awaiting"


def test_an_order_number_of_another_site_is_quarantined_without_revealing_it(
    api, sender, nurse, outsider_site
):
    elsewhere = open_day(
        outsider_site, date(2026, 11, 20), status="booked", volunteer=VolunteerFactory()
    )
    record_exam(elsewhere, order_number="CMD-2026-000142")
    api.force_authenticate(sender)
    response = post(api, "hl7", sample("oru_normal_panel.hl7"), HL7)
    assert response.status_code == 202
    assert "exam" not in response.json()
    assert IncomingResult.objects.get().reason == "unknown_order"
    assert PendingExam.objects.get().status == "awaiting"


def test_a_quarantined_result_is_matched_by_hand(api, sender, nurse, day):
    api.force_authenticate(sender)
    incoming = post(api, "hl7", sample("oru_normal_panel.hl7"), HL7).json()["incoming"]
    exam = record_exam(day, order_number="MSP-LOCAL-7")
    api.force_authenticate(nurse)
    response = api.post(
        f"/api/v1/results/quarantine/{incoming}/match/", {"exam": exam.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    exam.refresh_from_db()
    assert exam.status == "received"
    assert FollowUpTask.objects.get(incoming_id=incoming).status == "done"
    assert FollowUpTask.objects.get(exam=exam).kind == "review_result"
    assert api.get("/api/v1/results/quarantine/").json()["count"] == 0


@pytest.mark.parametrize(
    ("kind", "name", "content_type", "fragment"),
    [
        ("hl7", "adt_a01.hl7", HL7, "ADT"),
        ("hl7", "oru_missing_obr.hl7", HL7, "OBR"),
        ("hl7", "oru_truncated_msh.hl7", HL7, None),
        ("hl7", "oru_latin1_declared_utf8.hl7", HL7, None),
        ("hl7", "oru_normal_panel.hl7", "application/pdf", None),
        ("fhir", "fhir_observation.json", FHIR, "Observation"),
        ("fhir", "fhir_report_identifier.json", "text/html", None),
    ],
)
def test_an_unusable_message_is_stored_and_answered_422(
    api, sender, nurse, exams, kind, name, content_type, fragment
):
    api.force_authenticate(sender)
    response = post(api, kind, sample(name), content_type)
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["status"] == "invalid"
    assert body["detail"]
    if fragment:
        assert fragment in body["detail"]
    incoming = IncomingResult.objects.get()
    assert incoming.outcome == "invalid"
    assert bytes(incoming.raw) == sample(name)
    assert not FollowUpTask.objects.exists()
    api.force_authenticate(nurse)
    assert api.get("/api/v1/results/?outcome=invalid").json()["count"] == 1


def _fuzz_bodies():
    rng = random.Random(20261123)  # noqa: S311 - fuzzing, not security
    valid = sample("oru_abnormal_flags.hl7")
    yield "hl7", b"", HL7
    yield "fhir", b"", FHIR
    yield "hl7", rng.randbytes(2048), HL7
    yield "fhir", rng.randbytes(2048), FHIR
    yield "hl7", b"MSH|" + rng.randbytes(2 * 1024 * 1024), HL7
    yield (
        "fhir",
        b'{"resourceType": "DiagnosticReport", "x": "' + b"a" * (2 * 1024 * 1024) + b'"}',
        FHIR,
    )
    yield "hl7", json.dumps({"resourceType": "DiagnosticReport"}).encode(), HL7
    yield "hl7", valid[:40], HL7
    yield "hl7", valid[:3], "text/plain"
    yield "fhir", b"[1, 2, 3]", FHIR
    yield "fhir", b'{"resourceType": "DiagnosticReport", "status": 12}', FHIR
    yield "fhir", '{"resourceType": "Diagnostic\u00e9"}'.encode("latin-1"), FHIR
    for _ in range(10):
        cut = rng.randrange(len(valid))
        yield "hl7", valid[:cut] + rng.randbytes(rng.randrange(1, 50)), HL7


@pytest.mark.parametrize(("kind", "body", "content_type"), list(_fuzz_bodies()))
def test_fuzzed_bodies_never_answer_500_and_each_is_stored_once(
    api, sender, exams, kind, body, content_type
):
    api.force_authenticate(sender)
    response = post(api, kind, body, content_type)
    assert response.status_code in (201, 202, 422)
    assert IncomingResult.objects.count() == 1
    assert IncomingResult.objects.get().size == len(body)


def test_a_nurse_of_site_a_gets_404_on_site_b_results(api, nurse, outsider_site):
    api.force_authenticate(member(Role.SECRETARY, site=outsider_site))
    incoming = post(api, "hl7", sample("oru_normal_panel.hl7"), HL7).json()["incoming"]
    api.force_authenticate(nurse)
    assert api.get(f"/api/v1/results/{incoming}/").status_code == 404
    assert api.get(f"/api/v1/results/quarantine/{incoming}/").status_code == 404
    assert api.post(f"/api/v1/results/quarantine/{incoming}/match/", {}).status_code == 404


def test_a_volunteer_cannot_send_results(api, prescriber):
    api.force_authenticate(prescriber.user)
    assert post(api, "hl7", sample("oru_normal_panel.hl7"), HL7).status_code == 403
