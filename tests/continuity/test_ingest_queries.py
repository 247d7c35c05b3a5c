"""Ingestion's cost per message, in queries: a single message, matched or quarantined, in HL7 or
FHIR, costs at most 15 queries, whatever the data (issue 14 §2; its speed is the benchmark's).

Run in a real transaction (`transaction=True`), as a request is: the message's routing
transaction is BEGIN/COMMIT there, not a counted savepoint. The e-mail is sent by a worker
after the commit (eager in tests): its queries are the worker's, not the request's.
"""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.conftest import member
from tests.continuity.conftest import record_exam, sample
from tests.continuity.messages import potassium_oru

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MAX_QUERIES = 15
HL7 = "application/hl7-v2"
FHIR = "application/fhir+json"


def post(api, kind: str, body: bytes, content_type: str):
    return api.generic("POST", f"/api/v1/results/{kind}/", body, content_type=content_type)


@pytest.fixture
def sender(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def busy_site(day, nurse, site):
    """Several nurses and a few exams already received: routing picks among people with a load."""
    member(Role.COURSE_NURSE, site=site)
    for number in range(3):
        record_exam(day, order_number=f"CMD-OLD-{number}")
    return site


@pytest.mark.parametrize(
    ("kind", "matched", "status"),
    [("hl7", True, 201), ("hl7", False, 202), ("fhir", True, 201), ("fhir", False, 202)],
)
def test_a_single_message_costs_at_most_15_queries(
    api, sender, busy_site, day, kind, matched, status, django_assert_max_num_queries, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("accounts.notifications.enqueue_many", enqueued.extend)
    if matched:
        record_exam(day, order_number="CMD-2026-000142", patient_ref="MSP-00421")
    api.force_authenticate(sender)
    post(api, "hl7", potassium_oru("CMD-WARM-UP", "MSP-00421"), HL7)  # first-request caches
    if kind == "hl7":
        body, content_type = potassium_oru("CMD-2026-000142", "MSP-00421"), HL7
    else:
        body, content_type = sample("fhir_report_identifier.json"), FHIR

    with django_assert_max_num_queries(MAX_QUERIES):
        response = post(api, kind, body, content_type)

    assert response.status_code == status, response.json()
    assert len(enqueued) == 2  # the nurse's message about her new task (and the warm-up's)


def test_a_batch_costs_the_same_queries_for_4_or_20_messages(
    api, sender, busy_site, day, monkeypatch
):
    """Issue 14 §2 (≥ 200 messages a second): a batch is routed together, so its queries do
    not grow with its messages — matched and quarantined alike, each with its task, history
    and message (sent by a worker after the commit: its queries are not the request's)."""
    enqueued = []
    monkeypatch.setattr("accounts.notifications.enqueue_many", enqueued.extend)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def batch(prefix: str, size: int) -> bytes:
        messages = []
        for number in range(size):
            order = f"CMD-{prefix}-{number}"
            if number % 2 == 0:  # half match an exam, half are unknown (quarantined)
                record_exam(day, order_number=order, patient_ref="MSP-00421")
            if number % 4 == 0:  # a normal result: its review is due in working days
                messages.append(potassium_oru(order, "MSP-00421", value="4.2", flag="N"))
            else:
                messages.append(potassium_oru(order, "MSP-00421"))
        return b"".join(messages)

    api.force_authenticate(sender)
    post(api, "hl7", batch("WARM", 2), HL7)  # first-request caches
    counts = []
    for prefix, size in (("SMALL", 4), ("LARGE", 20)):
        body = batch(prefix, size)
        with CaptureQueriesContext(connection) as queries:
            response = post(api, "hl7", body, HL7)
        assert response.status_code == 200, response.json()
        statuses = [item["status"] for item in response.json()["results"]]
        assert statuses == ["matched", "quarantined"] * (size // 2)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert len(enqueued) == 2 + 4 + 20  # a message about each new task
