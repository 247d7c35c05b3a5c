"""A lab message answering several orders (one ORU^R01 with repeated ORC/OBR groups, each OBR
with its OBX results) is split per order: each order is matched to its own exam within the
sender's sites, or quarantined on its own; the raw message is kept once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day

pytestmark = pytest.mark.django_db

HL7 = "application/hl7-v2"


def post(api, body: bytes, kind: str = "hl7", content_type: str = HL7):
    return api.generic("POST", f"/api/v1/results/{kind}/", body, content_type=content_type)


def order_group(number: int, order: str, *, test: str, value: str, flag: str = "N") -> list[str]:
    return [
        f"ORC|RE|{order}^RELEVE|LAB-{number}^SIL_BIO||CM",
        f"OBR|{number}|{order}^RELEVE|LAB-{number}^SIL_BIO|{test}^{test}^L|||20261120083000"
        "|||||||||||||||20261120101200||CH|F",
        f"OBX|1|NM|{test}^{test}^LN||{value}|mmol/L|1.0-5.0|{flag}|||F",
    ]


def multi_order(orders: list[tuple[str, str, str, str]], *, control: str = "M-1") -> bytes:
    """One ORU^R01 for patient MSP-00421 with one ORC/OBR/OBX group per (order, test, value,
    flag)."""
    segments = [
        "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|MSP|20261120101500||ORU^R01^ORU_R01"
        f"|{control}|P|2.5|||||FRA|UNICODE UTF-8",
        "PID|1||MSP-00421^^^MSP^PI||TEST^PATIENT||1958|F",
    ]
    for number, (order, test, value, flag) in enumerate(orders, start=1):
        segments += order_group(number, order, test=test, value=value, flag=flag)
    return ("\r".join(segments) + "\r").encode()


THREE_ORDERS = [
    ("CMD-2026-000201", "POTASSIUM", "6.4", "HH"),
    ("CMD-2026-000202", "GLUCOSE", "4.9", "N"),
    ("CMD-2026-000203", "CREATININE", "3.1", "N"),
]


@pytest.fixture
def sender(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def three_exams(day):
    return [record_exam(day, order_number=order) for order, *_rest in THREE_ORDERS]


def test_a_three_order_hl7_message_matches_three_exams(api, sender, nurse, three_exams):
    """Seed 000_f357cf44203102b3.txt, lines 105-108: the course nurse's function "a vocation à
    sécuriser le partage et le suivi des informations de consultation entre l'usager, le
    soignant, l'équipe de la MSP" — and line 82: the bioserveur (lab results server) is a
    prerequisite. A lab sends one message for a patient's several orders: each result must
    reach its own exam, and its own review task, not only the first."""
    api.force_authenticate(sender)
    body = multi_order(THREE_ORDERS)

    response = post(api, body)

    assert response.status_code == 201, response.json()
    answer = response.json()
    ids = [exam.pk for exam in three_exams]
    assert answer["status"] == "matched"
    assert answer["exam"] == ids[0]  # the one-message shape still holds
    assert answer["exams"] == ids
    assert [item["status"] for item in answer["orders"]] == ["matched"] * 3
    assert [item["exam"] for item in answer["orders"]] == ids
    for exam, (_order, test, _value, flag) in zip(three_exams, THREE_ORDERS, strict=True):
        exam.refresh_from_db()
        assert exam.status == PendingExam.Status.RECEIVED
        assert test in exam.result_summary  # its own results only
        assert len(exam.result_summary.splitlines()) == 1
        assert exam.abnormal is (flag == "HH")
        task = FollowUpTask.objects.get(exam=exam)
        assert (task.kind, task.assignee) == ("review_result", nurse)
        assert task.priority == ("urgent" if flag == "HH" else "normal")
    # The raw message is stored once, on the message's row; each order links to it.
    message = IncomingResult.objects.get(pk=answer["incoming"])
    assert (message.outcome, bytes(message.raw)) == ("split", body)
    orders = list(message.orders.order_by("pk"))
    assert [row.pk for row in orders] == [item["incoming"] for item in answer["orders"]]
    assert [row.exam_id for row in orders] == ids
    assert all(bytes(row.raw) == b"" for row in orders)
    assert IncomingResult.objects.exclude(raw=b"").count() == 1


def test_an_order_of_a_message_without_its_exam_is_quarantined_on_its_own(api, sender, nurse, day):
    first = record_exam(day, order_number="CMD-2026-000201")
    third = record_exam(day, order_number="CMD-2026-000203")
    api.force_authenticate(sender)

    response = post(api, multi_order(THREE_ORDERS))

    assert response.status_code == 202, response.json()
    answer = response.json()
    assert (answer["status"], answer["reason"]) == ("quarantined", "unknown_order")
    assert answer["exams"] == [first.pk, third.pk]
    assert "exam" not in answer
    assert [item["status"] for item in answer["orders"]] == ["matched", "quarantined", "matched"]
    unmatched = IncomingResult.objects.get(pk=answer["orders"][1]["incoming"])
    assert unmatched.order_number.startswith("CMD-2026-000202")
    assert "GLUCOSE" in unmatched.summary
    assert "POTASSIUM" not in unmatched.summary
    task = FollowUpTask.objects.get(incoming=unmatched)
    assert (task.kind, task.assignee) == ("resolve_quarantine", nurse)
    assert FollowUpTask.objects.filter(kind="review_result").count() == 2


def test_replaying_a_multi_order_message_creates_no_second_task(api, sender, nurse, three_exams):
    api.force_authenticate(sender)
    body = multi_order(THREE_ORDERS)

    first = post(api, body)
    second = post(api, body)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["exams"] == first.json()["exams"]
    assert FollowUpTask.objects.count() == 3
    replays = IncomingResult.objects.filter(pk__in=[i["incoming"] for i in second.json()["orders"]])
    assert {row.replay_of_id for row in replays} == {i["incoming"] for i in first.json()["orders"]}


def test_the_orders_of_a_message_never_reach_another_site_s_exams(api, db):
    laguiole = HostSiteFactory(territory=TerritoryFactory(department_id="12"))
    chateaumeillant = HostSiteFactory(territory=TerritoryFactory(department_id="18"))
    yesterday = timezone.localdate() - timedelta(days=1)
    there = open_day(laguiole, yesterday, status="booked", volunteer=VolunteerFactory())
    here = open_day(chateaumeillant, yesterday, status="booked", volunteer=VolunteerFactory())
    foreign = record_exam(there, order_number="CMD-2026-000202")
    own = record_exam(here, order_number="CMD-2026-000201")
    member(Role.COURSE_NURSE, site=laguiole)
    member(Role.COURSE_NURSE, site=chateaumeillant)
    api.force_authenticate(member(Role.SECRETARY, site=chateaumeillant))

    response = post(api, multi_order(THREE_ORDERS[:2]))

    assert response.status_code == 202, response.json()
    assert [(i["status"], i.get("reason")) for i in response.json()["orders"]] == [
        ("matched", None),
        ("quarantined", "unknown_order"),
    ]
    assert response.json()["exams"] == [own.pk]
    foreign.refresh_from_db()
    assert foreign.status == PendingExam.Status.AWAITING
    assert not IncomingResult.objects.filter(site=laguiole).exists()
    assert not FollowUpTask.objects.filter(site=laguiole).exists()


def test_a_multi_order_message_in_a_batch_is_split_too(api, sender, nurse, three_exams):
    api.force_authenticate(sender)
    body = multi_order(THREE_ORDERS, control="M-1") + multi_order(THREE_ORDERS[:1], control="M-2")

    response = post(api, body)

    assert response.status_code == 200, response.json()
    split, single = response.json()["results"]
    assert split["exams"] == [exam.pk for exam in three_exams]
    assert (single["status"], single["exam"], "orders" in single) == (
        "matched",
        three_exams[0].pk,
        False,
    )


def test_an_order_s_raw_message_page_shows_its_message(client, sender, nurse, three_exams, api):
    api.force_authenticate(sender)
    body = multi_order(THREE_ORDERS)
    order = post(api, body).json()["orders"][1]["incoming"]
    client.force_login(nurse)

    page = client.get(f"/suivi/resultats/{order}/message/")

    assert page.status_code == 200
    assert "CMD-2026-000203^RELEVE" in page.content.decode()


def test_the_schema_documents_the_orders_of_a_message(api, sender):
    api.force_authenticate(sender)
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    shape = schema["components"]["schemas"]["IngestionResult"]["properties"]
    assert shape["exams"]["type"] == "array"
    assert shape["orders"]["type"] == "array"
