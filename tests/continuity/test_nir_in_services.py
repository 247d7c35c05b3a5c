"""Every service that writes a field protected by the NIR validator validates it: an NIR in
a cancel reason, a task note or a dismissal note is refused naming the field, nothing kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from continuity import services
from continuity.models import FollowUpTask, IncomingResult
from tests.continuity.conftest import record_exam

NIR = "1 84 12 75 123 456 78"


def chased(day, nurse):
    """An exam still awaiting, past its date: a chase task is open for the nurse."""
    exam = record_exam(day)
    task, _new = services.task_open(
        site=day.site,
        kind=FollowUpTask.Kind.CHASE_RESULT,
        exam=exam,
        title="Relancer",
        priority=FollowUpTask.Priority.NORMAL,
        due_at=timezone.now() + timedelta(days=1),
    )
    return exam, task


def quarantined(site):
    incoming = IncomingResult.objects.create(
        format="hl7v2", raw=b"MSH|^~\\&|LAB", site=site, outcome="quarantined",
        reason="unknown_order", order_number="INCONNU-9", patient_ref="MSP-00421",
        summary="Kaliémie 6,1 mmol/L", abnormal=True,
    )  # fmt: skip
    task, _new = services.task_open(
        site=site,
        kind=FollowUpTask.Kind.RESOLVE_QUARANTINE,
        incoming=incoming,
        title="Associer",
        priority=FollowUpTask.Priority.URGENT,
        due_at=timezone.now() + timedelta(hours=4),
    )
    return incoming, task


def assert_untouched(exam=None, task=None, incoming=None):
    if exam is not None:
        exam.refresh_from_db()
        assert (exam.status, exam.review_note) == ("awaiting", "")
    if task is not None:
        task.refresh_from_db()
        assert (task.status, task.note) == ("open", "")
    if incoming is not None:
        incoming.refresh_from_db()
        assert (incoming.resolved_at, incoming.error) == (None, "")


def test_it_refuses_an_nir_in_an_exam_cancel_reason(api, client, day, nurse):
    exam, task = chased(day, nurse)

    with pytest.raises(ValidationError) as refusal:
        services.exam_cancel(exam=exam, by=nurse, reason=f"Patient {NIR} parti")
    assert list(refusal.value.message_dict) == ["reason"]

    api.force_authenticate(nurse)
    response = api.post(
        f"/api/v1/exams/{exam.pk}/cancel/", {"reason": f"Patient {NIR} parti"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]

    client.force_login(nurse)
    page = client.post(
        reverse("continuity_exam_cancel", args=[exam.pk]), {"reason": f"Patient {NIR} parti"}
    )
    assert page.status_code == 200
    assert "reason" in page.context["cancel_form"].errors

    assert_untouched(exam=exam, task=task)


def test_it_refuses_an_nir_in_the_note_of_finished_tasks(day, nurse):
    _exam, task = chased(day, nurse)

    with pytest.raises(ValidationError) as refusal:
        services.finish_tasks(
            FollowUpTask.objects.filter(pk=task.pk), by=nurse, now=timezone.now(), note=NIR
        )

    assert list(refusal.value.message_dict) == ["note"]
    assert_untouched(task=task)


def test_it_refuses_an_nir_in_a_quarantine_dismissal_note(api, client, site, nurse):
    incoming, task = quarantined(site)

    api.force_authenticate(nurse)
    response = api.post(
        f"/api/v1/results/quarantine/{incoming.pk}/dismiss/",
        {"note": f"Doublon, NIR {NIR}"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    assert_untouched(incoming=incoming, task=task)

    client.force_login(nurse)
    page = client.post(
        reverse("continuity_quarantine_dismiss", args=[incoming.pk]),
        {f"dismiss-{incoming.pk}-note": f"Doublon, NIR {NIR}"},
    )
    assert page.status_code == 200
    assert "note" in page.context["page_obj"][0].dismiss_form.errors
    assert_untouched(incoming=incoming, task=task)

    accepted = api.post(
        f"/api/v1/results/quarantine/{incoming.pk}/dismiss/", {"note": "Doublon"}, format="json"
    )
    assert accepted.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.note) == ("done", "Doublon")
