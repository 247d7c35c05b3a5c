"""Result batches, as labs send them: several HL7 messages in one body (optionally wrapped in
FHS/BHS ... BTS/FTS) or a FHIR Bundle of DiagnosticReports. The body is stored whole first;
each message is then stored and handled on its own, exactly as if it had been sent alone."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from continuity.parsing import (
    MAX_BATCH_MESSAGES,
    MAX_BYTES,
    MAX_SEGMENTS,
    InvalidMessage,
    split_fhir,
    split_hl7,
)
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day

pytestmark = pytest.mark.django_db

HL7 = "application/hl7-v2"
FHIR = "application/fhir+json"

FHS = b"FHS|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|MSP|20261120101500||lot-42.hl7\r"
BHS = b"BHS|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|MSP|20261120101500\r"
BTS = b"BTS|3\r"
FTS = b"FTS|1\r"


def post(api, kind: str, body: bytes, content_type: str = HL7):
    return api.generic("POST", f"/api/v1/results/{kind}/", body, content_type=content_type)


def oru(*, control: str, order: str, patient: str = "MSP-00421", flag: str = "N") -> bytes:
    """One ORU^R01 message (one order, one potassium result), ending with its segment end."""
    return (
        "\r".join(
            [
                "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|MSP|20261120101500||ORU^R01^ORU_R01"
                f"|{control}|P|2.5|||||FRA|UNICODE UTF-8",
                f"PID|1||{patient}^^^MSP^PI||TEST^PATIENT||1958|F",
                f"ORC|RE|{order}^RELEVE|LAB-26-1^SIL_BIO||CM",
                f"OBR|1|{order}^RELEVE|LAB-26-1^SIL_BIO|IONO^Ionogramme^L|||20261120083000"
                "|||||||||||||||20261120101200||CH|F",
                f"OBX|1|NM|2823-3^Potassium^LN||4.2|mmol/L|3.5-5.1|{flag}|||F",
            ]
        )
        + "\r"
    ).encode()


# One of each: matched, quarantined (unknown order), invalid (no OBR segment).
MATCHED = oru(control="B-1", order="CMD-2026-000142")
UNKNOWN = oru(control="B-2", order="CMD-2099-999999")
BROKEN = sample("oru_missing_obr.hl7").rstrip() + b"\r"
THREE = [MATCHED, UNKNOWN, BROKEN]


@pytest.fixture
def sender(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def exam(day):
    return record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-00421")


def messages_of(response) -> list[IncomingResult]:
    ids = [item["incoming"] for item in response.json()["results"]]
    rows = IncomingResult.objects.in_bulk(ids)
    return [rows[pk] for pk in ids]


def assert_three_handled_on_their_own(response, exam, nurse, body: bytes) -> None:
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [item["status"] for item in results] == ["matched", "quarantined", "invalid"]
    assert results[0]["exam"] == exam.pk
    assert results[1]["reason"] == "unknown_order"
    assert "OBR" in results[2]["detail"]
    matched, quarantined, invalid = messages_of(response)
    # Each message is its own row, holding its own bytes, pointing to the body kept whole.
    assert [bytes(row.raw) for row in (matched, quarantined, invalid)] == THREE
    batch = matched.batch
    assert batch is not None
    assert batch.outcome == "batch"
    assert bytes(batch.raw) == body
    assert list(batch.messages.order_by("pk")) == [matched, quarantined, invalid]
    exam.refresh_from_db()
    assert exam.status == "received"
    assert FollowUpTask.objects.filter(exam=exam, kind="review_result").count() == 1
    task = FollowUpTask.objects.get(incoming=quarantined, kind="resolve_quarantine")
    assert task.assignee == nurse


def test_an_hl7_batch_in_an_envelope_answers_each_message_in_order(api, sender, nurse, exam):
    body = FHS + BHS + b"".join(THREE) + BTS + FTS
    api.force_authenticate(sender)

    response = post(api, "hl7", body)

    assert_three_handled_on_their_own(response, exam, nurse, body)
    assert IncomingResult.objects.count() == 4  # the body as received, and its three messages


def test_several_hl7_messages_without_envelope_are_a_batch(api, sender, nurse, exam):
    body = b"\n".join(THREE)  # some senders put a blank line between messages
    api.force_authenticate(sender)

    response = post(api, "hl7", body)

    assert response.status_code == 200, response.json()
    assert [item["status"] for item in response.json()["results"]] == [
        "matched",
        "quarantined",
        "invalid",
    ]
    assert [bytes(row.raw).strip() for row in messages_of(response)] == [
        message.strip() for message in THREE
    ]


def test_an_envelope_with_one_message_is_a_batch_of_one(api, sender, nurse, exam):
    api.force_authenticate(sender)

    response = post(api, "hl7", BHS + MATCHED + b"BTS|1\r")

    assert response.status_code == 200, response.json()
    assert response.json()["results"] == [
        {
            "status": "matched",
            "exam": exam.pk,
            "incoming": response.json()["results"][0]["incoming"],
        }
    ]


def test_a_single_message_keeps_its_own_answer(api, sender, nurse, exam):
    api.force_authenticate(sender)

    response = post(api, "hl7", MATCHED)

    assert response.status_code == 201
    assert IncomingResult.objects.get().batch is None


def test_a_batch_keeps_each_message_s_character_set(api, sender, nurse, day):
    exam = record_exam(day, order_number="CMD-2026-000160", patient_ref="MSP-00733")
    latin1 = sample("oru_latin1.hl7")
    api.force_authenticate(sender)

    response = post(api, "hl7", FHS + latin1.rstrip() + b"\r" + UNKNOWN + FTS)

    assert [item["status"] for item in response.json()["results"]] == ["matched", "quarantined"]
    exam.refresh_from_db()
    assert "Hématies: 4.6 T/L" in exam.result_summary  # latin-1 (MSH-18), next to UTF-8


def test_replaying_a_whole_batch_creates_no_second_task(api, sender, nurse, exam):
    body = FHS + BHS + b"".join(THREE) + BTS + FTS
    api.force_authenticate(sender)
    first = post(api, "hl7", body)
    tasks = FollowUpTask.objects.count()

    second = post(api, "hl7", body)

    assert second.status_code == 200
    assert [item["status"] for item in second.json()["results"]] == [
        "matched",
        "quarantined",
        "invalid",
    ]
    assert FollowUpTask.objects.count() == tasks
    assert FollowUpTask.objects.filter(exam=exam, kind="review_result").count() == 1
    before, again = messages_of(first), messages_of(second)
    assert [row.replay_of_id for row in again[:2]] == [row.pk for row in before[:2]]


@pytest.mark.parametrize("body", [FHS + BHS + BTS + FTS, BHS + b"\r\n\r\n" + b"BTS|0\r"])
def test_an_envelope_without_any_message_is_invalid_and_kept(api, sender, body):
    api.force_authenticate(sender)

    response = post(api, "hl7", body)

    assert response.status_code == 422
    assert response.json()["status"] == "invalid"
    row = IncomingResult.objects.get()
    assert (row.pk, row.outcome, bytes(row.raw)) == (response.json()["incoming"], "invalid", body)


def test_a_batch_of_too_many_messages_is_refused_whole_and_kept(api, sender, exam):
    body = b"".join(
        oru(control=f"L-{number}", order="CMD-2026-000142")
        for number in range(MAX_BATCH_MESSAGES + 1)
    )
    api.force_authenticate(sender)

    response = post(api, "hl7", body)

    assert response.status_code == 422, response.json()
    assert str(MAX_BATCH_MESSAGES) in response.json()["detail"]
    row = IncomingResult.objects.get()  # the body, kept as received; no message handled
    assert bytes(row.raw) == body
    exam.refresh_from_db()
    assert exam.status == "awaiting"
    assert not FollowUpTask.objects.exists()


def test_each_message_of_a_batch_keeps_its_own_parsing_limits(api, sender, nurse, exam):
    heavy = oru(control="B-9", order="CMD-2026-000142") + b"NTE|1\r" * MAX_SEGMENTS
    api.force_authenticate(sender)

    response = post(api, "hl7", BHS + MATCHED + heavy + BTS)

    assert response.status_code == 200, response.json()
    matched, refused = response.json()["results"]
    assert matched["status"] == "matched"
    assert refused["status"] == "invalid"
    assert str(MAX_SEGMENTS) in refused["detail"]


@pytest.mark.parametrize(
    ("split", "body", "content_type"),
    [
        (split_hl7, BHS + b"\r" * (MAX_BYTES - 100), HL7),
        (split_hl7, b"BHS|\r" * (MAX_BYTES // 5), HL7),
        (split_hl7, b"MSH|^~\\&|\r" * (MAX_BYTES // 10), HL7),
        (split_hl7, BHS + b"PID|1\r" * ((MAX_BYTES - 100) // 6), HL7),
        (
            split_fhir,
            b'{"resourceType":"Bundle","type":"batch","entry":[' + b"{}," * 300_000 + b"{}]}",
            FHIR,
        ),
    ],
    ids=["blank-lines", "envelopes", "headers", "stray-segments", "entries"],
)
def test_splitting_a_hostile_batch_is_quick(split, body, content_type):
    assert len(body) <= MAX_BYTES
    started = time.process_time()
    try:
        split(body, content_type)
    except InvalidMessage:
        pass
    assert time.process_time() - started < 0.5  # a loaded two-core machine; ~50 ms here


# --- FHIR Bundles ------------------------------------------------------------------------------


def bundle(kind: str, *resources: dict) -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)],
        },
        ensure_ascii=False,
        indent=2,
    ).encode()


def report(name: str) -> dict:
    return json.loads(sample(name))


@pytest.mark.parametrize("kind", ["batch", "collection"])
def test_a_fhir_bundle_answers_each_report_in_order(api, sender, nurse, day, kind):
    first = record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-00421")
    second = record_exam(day, order_number="CMD-2026-000143", patient_ref="MSP-00388")
    unknown = report("fhir_report_identifier.json")
    unknown["identifier"] = [{"value": "CMD-2099-000001"}]
    resources = [
        report("fhir_report_identifier.json"),
        report("fhir_report_based_on.json"),
        unknown,
    ]
    api.force_authenticate(sender)

    response = post(api, "fhir", bundle(kind, *resources), FHIR)

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [item["status"] for item in results] == ["matched", "matched", "quarantined"]
    assert [item.get("exam") for item in results[:2]] == [first.pk, second.pk]
    rows = messages_of(response)
    # Each row holds its report's own bytes as sent (decimals, accents and all).
    assert [json.loads(bytes(row.raw)) for row in rows] == resources
    assert "5.9" in first.__class__.objects.get(pk=first.pk).result_summary
    assert FollowUpTask.objects.filter(kind="review_result").count() == 2


def test_a_bundle_entry_that_is_not_a_report_is_invalid_on_its_own(api, sender, nurse, exam):
    api.force_authenticate(sender)
    body = bundle(
        "collection",
        json.loads(sample("fhir_observation.json")),
        report("fhir_report_identifier.json"),
    )

    response = post(api, "fhir", body, FHIR)

    assert response.status_code == 200, response.json()
    invalid, matched = response.json()["results"]
    assert invalid["status"] == "invalid"
    assert "Observation" in invalid["detail"]
    assert matched["status"] == "matched"
    row = IncomingResult.objects.get(pk=invalid["incoming"])
    assert json.loads(bytes(row.raw))["resourceType"] == "Observation"


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Bundle", "type": "batch"},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {}}]},
        {"resourceType": "Bundle", "type": "batch", "entry": {"resource": {}}},
        {"resourceType": "Bundle", "type": "batch", "entry": [{}] * (MAX_BATCH_MESSAGES + 1)},
    ],
    ids=["no-entry", "entry-absent", "transaction", "entry-not-a-list", "too-many"],
)
def test_a_bundle_refused_as_a_whole_is_invalid_and_kept(api, sender, body):
    raw = json.dumps(body).encode()
    api.force_authenticate(sender)

    response = post(api, "fhir", raw, FHIR)

    assert response.status_code == 422, response.json()
    row = IncomingResult.objects.get()
    assert (row.pk, row.outcome, bytes(row.raw)) == (response.json()["incoming"], "invalid", raw)


# --- Scope ---------------------------------------------------------------------------------


def test_a_batch_never_reaches_another_site_s_exams(api, db):
    laguiole = HostSiteFactory(territory=TerritoryFactory(department_id="12"))
    chateaumeillant = HostSiteFactory(territory=TerritoryFactory(department_id="18"))
    yesterday = timezone.localdate() - timedelta(days=1)
    day = open_day(laguiole, yesterday, status="booked", volunteer=VolunteerFactory())
    exam = record_exam(day, order_number="LAG-2026-000042", patient_ref="LAG-00777")
    member(Role.COURSE_NURSE, site=laguiole)
    chateaumeillant_nurse = member(Role.COURSE_NURSE, site=chateaumeillant)
    api.force_authenticate(member(Role.SECRETARY, site=chateaumeillant))
    body = FHS + b"".join(
        oru(control=f"X-{n}", order="LAG-2026-000042", patient="LAG-00777") for n in range(2)
    )

    response = post(api, "hl7", body)

    assert response.status_code == 200, response.json()
    assert [(item["status"], item["reason"]) for item in response.json()["results"]] == [
        ("quarantined", "unknown_order"),
    ] * 2
    rows = messages_of(response)
    assert {row.site_id for row in rows} == {chateaumeillant.pk}
    assert {task.assignee for task in FollowUpTask.objects.all()} == {chateaumeillant_nurse}
    exam.refresh_from_db()
    assert exam.status == PendingExam.Status.AWAITING
    assert not IncomingResult.objects.filter(site=laguiole).exists()
    assert not FollowUpTask.objects.filter(site=laguiole).exists()


def test_the_schema_documents_the_batch_answer(api, sender):
    api.force_authenticate(sender)
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    for kind in ("hl7", "fhir"):
        answers = schema["paths"][f"/api/v1/results/{kind}/"]["post"]["responses"]
        assert {"200", "201", "202", "422"} <= set(answers)
        reference = answers["200"]["content"]["application/json"]["schema"]["$ref"]
        shape = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
        assert shape["properties"]["results"]["type"] == "array"


# --- Each message on its own -------------------------------------------------------------------


def test_a_batch_stores_every_message_even_when_one_is_invalid(
    api, sender, nurse, day, monkeypatch
):
    """Issue 14 §2: a bad message (unreadable, or one whose routing breaks) stops nothing: every
    message of the batch is stored with its own bytes and answered, in order."""
    from continuity import services

    first = record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-00421")
    broken_exam = record_exam(day, order_number="CMD-2026-000666", patient_ref="MSP-00421")
    last = record_exam(day, order_number="CMD-2026-000144", patient_ref="MSP-00421")
    receive = services.receive_many

    def breaks_on_one_exam(results, **kwargs):
        # Breaks the batch's shared routing (it holds the broken exam), then that message
        # alone when each is routed on its own.
        if any(result.exam.pk == broken_exam.pk for result in results):
            raise RuntimeError("database went away")
        return receive(results, **kwargs)

    monkeypatch.setattr(services, "receive_many", breaks_on_one_exam)
    messages = [
        oru(control="I-1", order="CMD-2026-000142"),
        BROKEN,
        oru(control="I-2", order="CMD-2026-000666"),
        b"MSH|not an hl7 message at all\r",
        oru(control="I-3", order="CMD-2026-000144"),
    ]
    api.force_authenticate(sender)

    response = post(api, "hl7", FHS + BHS + b"".join(messages) + BTS + FTS)

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(item["status"], item.get("reason")) for item in results] == [
        ("matched", None),
        ("invalid", None),
        ("quarantined", "routing_failed"),
        ("invalid", None),
        ("matched", None),
    ]
    assert [bytes(row.raw) for row in messages_of(response)] == messages
    for exam in (first, last):
        exam.refresh_from_db()
        assert exam.status == PendingExam.Status.RECEIVED
    broken_exam.refresh_from_db()
    assert broken_exam.status == PendingExam.Status.AWAITING
    stuck = IncomingResult.objects.get(pk=results[2]["incoming"])
    assert FollowUpTask.objects.get(incoming=stuck).assignee == nurse


def test_a_batch_gives_each_message_what_it_would_get_alone(api, sender, nurse, day):
    """Issue 14 §2: a batch is routed together (one read of its exams, one routing, bulk
    writes), and still each message gets what it would get sent alone, in the body's order: a
    second result on an exam is an amended one (one review task, the latest values), the same
    message twice is a replay (no second task), a patient mismatch and a cancelled exam are
    quarantined with their reason, and the tasks are spread over the site's two nurses."""
    from continuity import services

    second_nurse = member(Role.COURSE_NURSE, site=nurse.memberships.get().site)
    first = record_exam(day, order_number="CMD-1", patient_ref="MSP-00421")
    mismatch = record_exam(day, order_number="CMD-2", patient_ref="MSP-00999")
    cancelled = record_exam(day, order_number="CMD-3", patient_ref="MSP-00421")
    services.exam_cancel(exam=cancelled, by=nurse, reason="Doublon")
    others = [record_exam(day, order_number=f"CMD-{n}", patient_ref="MSP-00421") for n in (4, 5)]
    twice = oru(control="T-1", order="CMD-4")
    messages = [
        oru(control="A-1", order="CMD-1"),
        oru(control="A-2", order="CMD-1", flag="H"),  # amended: now abnormal
        oru(control="M-1", order="CMD-2"),
        oru(control="C-1", order="CMD-3"),
        twice,
        twice,
        oru(control="U-1", order="CMD-404"),
        oru(control="T-2", order="CMD-5"),
    ]
    api.force_authenticate(sender)

    response = post(api, "hl7", b"".join(messages))

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(item["status"], item.get("reason")) for item in results] == [
        ("matched", None),
        ("matched", None),
        ("quarantined", "patient_mismatch"),
        ("quarantined", "exam_cancelled"),
        ("matched", None),
        ("matched", None),
        ("quarantined", "unknown_order"),
        ("matched", None),
    ]
    rows = messages_of(response)
    assert rows[5].replay_of == rows[4]
    first.refresh_from_db()
    assert first.status == "received"
    assert first.abnormal is True
    review = FollowUpTask.objects.get(exam=first, kind="review_result")
    assert review.priority == "urgent"
    assert FollowUpTask.objects.filter(exam=others[0], kind="review_result").count() == 1
    assert FollowUpTask.objects.filter(exam=others[1], kind="review_result").count() == 1
    quarantine_tasks = FollowUpTask.objects.filter(kind="resolve_quarantine")
    assert sorted(task.incoming_id for task in quarantine_tasks) == [
        rows[2].pk,
        rows[3].pk,
        rows[6].pk,
    ]
    # 6 new tasks (3 reviews, 3 quarantines) spread over two nurses with no task before.
    loads = [
        FollowUpTask.objects.filter(assignee=person).count() for person in (nurse, second_nurse)
    ]
    assert sorted(loads) == [3, 3]
    mismatch.refresh_from_db()
    assert mismatch.status == "awaiting"
    # The history says who received each exam.
    assert first.history.first().history_user == sender
