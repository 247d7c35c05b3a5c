"""The routing legs of an exam, tracked (issue 13 § 3; API.md § Continuity of care).

Seed 000 (FemasAURA&Co), lines 82–84: every exam done is deposited in the DMP, sent to the
patient's Mon espace santé and to the prescribing volunteer. Each leg is pending, done (when,
by whom) or not applicable (why); an exam closes only when none of them is pending. The
treating doctor's letter is the fourth leg, born at the closing (`continuity.models.ExamLeg`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from continuity import services
from continuity.models import ExamLeg, PendingExam
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import track_legs

pytestmark = pytest.mark.django_db

CLOSE = {"responsible": "volunteer", "treating_doctor_status": "none"}


def received(day, nurse, **fields):
    exam = record_exam(day, **fields)
    services.exam_receive(exam=exam, by=nurse, abnormal=False, result_summary="Sodium: 140 mmol/L")
    return exam


def legs_of(body) -> dict:
    return {leg["leg"]: leg for leg in body["legs"]}


def test_closing_an_exam_with_a_leg_pending_answers_409_naming_the_leg(api, day, nurse):
    """Seed 000, l. 82–84 (DMP, espace santé, prescriber): closing with a leg pending is
    refused, naming it, and nothing is written."""
    exam = received(day, nurse)
    api.force_authenticate(nurse)
    url = f"/api/v1/exams/{exam.pk}/"
    api.post(f"{url}legs/dmp/", {"status": "done"}, format="json")

    response = api.post(f"{url}close/", {**CLOSE, "sent_to_patient_space": True}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "routing_incomplete"
    assert response.json()["legs"] == ["prescriber"]
    exam.refresh_from_db()
    assert exam.status == "received"
    assert legs_of(api.get(url).json())["patient_space"]["status"] == "pending"  # rolled back

    # The page says it too, on the closing form, and closes nothing.
    page = pytest.importorskip("django.test").Client()
    page.force_login(nurse)
    refused = page.post(
        reverse("continuity_exam_close", args=[exam.pk]),
        {"responsible": "volunteer", "treating_doctor_status": "none"},
    )
    assert refused.status_code == 200
    assert refused.context["close_form"].refusal_code == "routing_incomplete"

    api.post(f"{url}legs/prescriber/", {"status": "not_applicable", "reason": "Vu en TLC"})
    closed = api.post(f"{url}close/", {**CLOSE, "sent_to_patient_space": True}, format="json")
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"


def test_a_leg_is_done_with_when_and_by_whom(api, day, nurse):
    """Seed 000, l. 83: "déposé dans le DMP" — the leg says when and who."""
    exam = received(day, nurse)
    api.force_authenticate(nurse)
    before = timezone.now()

    response = api.post(f"/api/v1/exams/{exam.pk}/legs/dmp/", {"status": "done"}, format="json")

    assert response.status_code == 200, response.json()
    dmp = legs_of(response.json())["dmp"]
    assert dmp["status"] == "done"
    assert dmp["by"] == nurse.pk
    assert dmp["at"] is not None
    assert response.json()["dmp_deposited"] is True  # the boolean, derived
    leg = ExamLeg.objects.get(exam=exam, leg="dmp")
    assert leg.at >= before
    assert leg.by == nurse
    assert leg.history.count() == 2  # created pending, then done: both kept
    # The database refuses a done leg without its author.
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamLeg.objects.filter(pk=leg.pk).update(by=None)
    # The page shows when and who.
    page = pytest.importorskip("django.test").Client()
    page.force_login(nurse)
    html = page.get(reverse("continuity_exam", args=[exam.pk])).content.decode()
    assert 'data-leg="dmp" data-status="done"' in html
    assert nurse.email in html or nurse.get_full_name() in html


def test_a_leg_not_applicable_needs_a_reason(api, day, nurse, client):
    """Seed 000, l. 83 (the DMP): a patient may oppose it — not applicable, and why."""
    exam = received(day, nurse)
    api.force_authenticate(nurse)
    url = f"/api/v1/exams/{exam.pk}/legs/dmp/"

    refused = api.post(url, {"status": "not_applicable"}, format="json")

    assert refused.status_code == 400
    assert "reason" in refused.json()
    shown = legs_of(api.get(f"/api/v1/exams/{exam.pk}/").json())["dmp"]
    assert (shown["status"], shown["at"], shown["by"]) == ("pending", None, None)
    ok = api.post(url, {"status": "not_applicable", "reason": "Patient opposé au DMP"})
    assert legs_of(ok.json())["dmp"] == {
        **legs_of(ok.json())["dmp"], "status": "not_applicable", "reason": "Patient opposé au DMP"
    }  # fmt: skip
    assert ok.json()["dmp_deposited"] is False
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamLeg.objects.filter(exam=exam, leg="dmp").update(reason="")
    # On the page: the form per leg, refused next to the reason.
    client.force_login(nurse)
    page = client.post(
        reverse("continuity_exam_leg", args=[exam.pk, "prescriber"]),
        {"leg-prescriber-status": "not_applicable", "leg-prescriber-reason": ""},
    )
    assert page.status_code == 200
    form = next(row["form"] for row in page.context["legs"] if row["leg"].leg == "prescriber")
    assert "reason" in form.errors
    # Only the site's staff record a leg (the prescriber sees the exam, 403).
    api.force_authenticate(day.volunteer.user)
    assert api.post(url, {"status": "done"}).status_code == 403


def test_the_close_booleans_still_record_the_legs(api, day, nurse):
    """API.md: the booleans of `close` still work and record the matching legs (seed 000,
    l. 82–84); the treating doctor elsewhere gets a pending letter leg, else not applicable."""
    exam = received(day, nurse)
    other = received(day, nurse, order_number="CMD-2")
    api.force_authenticate(nurse)
    every = {"dmp_deposited": True, "sent_to_patient_space": True, "sent_to_prescriber": True}

    response = api.post(
        f"/api/v1/exams/{exam.pk}/close/",
        {**every, "responsible": "treating_doctor", "treating_doctor_status": "elsewhere"},
        format="json",
    )
    at_site = api.post(
        f"/api/v1/exams/{other.pk}/close/",
        {**every, "responsible": "site_doctor", "treating_doctor_status": "at_site"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    legs = legs_of(response.json())
    assert {name: legs[name]["status"] for name in legs} == {
        "dmp": "done", "patient_space": "done", "prescriber": "done", "treating_doctor": "pending"
    }  # fmt: skip
    assert all(legs[name]["by"] == nurse.pk for name in ("dmp", "patient_space", "prescriber"))
    letter = legs_of(at_site.json())["treating_doctor"]
    assert letter["status"] == "not_applicable"
    assert letter["reason"]
    # The letter's leg is then recorded as sent.
    sent = api.post(f"/api/v1/exams/{exam.pk}/legs/treating_doctor/", {"status": "done"})
    assert legs_of(sent.json())["treating_doctor"]["status"] == "done"
    # Not for a treating doctor at the site.
    refused = api.post(f"/api/v1/exams/{other.pk}/legs/treating_doctor/", {"status": "done"})
    assert refused.status_code == 409


def test_the_closed_with_a_leg_pending_queue_and_its_figure(client, day, nurse, site):
    """Issue 13 § 3 ("a queue closed with a leg pending"), seed 000 l. 82–84: the queue holds
    the closed exams whose letter to a treating doctor elsewhere is not sent, those closed
    before the legs were tracked with a boolean false, and those with a leg reopened; the nurse's
    home counts them and links to that list."""
    every = {"dmp_deposited": True, "sent_to_patient_space": True, "sent_to_prescriber": True}
    letter_unsent = received(day, nurse, order_number="A")
    services.exam_close(
        exam=letter_unsent, by=nurse, responsible="volunteer",
        treating_doctor_status="elsewhere", **every,
    )  # fmt: skip
    complete = received(day, nurse, order_number="B")
    services.exam_close(
        exam=complete, by=nurse, responsible="volunteer", treating_doctor_status="none", **every
    )
    reopened = received(day, nurse, order_number="C")
    services.exam_close(
        exam=reopened, by=nurse, responsible="volunteer", treating_doctor_status="none", **every
    )
    services.exam_leg_record(
        exam=reopened, leg="patient_space", status="pending", by=nurse, reason="Envoi échoué"
    )
    migrated = record_exam(day, order_number="D")
    PendingExam.objects.filter(pk=migrated.pk).update(
        status="closed", closed_at=timezone.now() - timedelta(days=30), closed_by=nurse,
        dmp_deposited=True, sent_to_patient_space=False, sent_to_prescriber=True,
    )  # fmt: skip
    track_legs(PendingExam.objects.get(pk=migrated.pk))
    not_closed = record_exam(day, order_number="E")  # awaiting: not in the queue
    queue = {letter_unsent.pk, reopened.pk, migrated.pk}
    pending = PendingExam.objects.filter(PendingExam.leg_missing_q())
    assert set(pending.values_list("pk", flat=True)) == queue
    client.force_login(nurse)

    tracker = client.get(reverse("continuity_exams"), {"view": "leg_pending"})

    assert {exam.pk for exam in tracker.context["page_obj"]} == queue
    assert not_closed.pk not in queue
    assert complete.pk not in queue
    tabs = {tab["view"]: tab["count"] for tab in tracker.context["tabs"]}
    assert tabs["leg_pending"] == 3
    home = client.get("/")
    tile = next(t for s in home.context["sections"] for t in s.tiles if t.key == "leg_pending")
    assert tile.count == 3
    listed = client.get(tile.url)
    assert listed.context["page_obj"].paginator.count == tile.count
    # Sending the letter takes the exam out of the queue.
    services.exam_leg_record(exam=letter_unsent, leg="treating_doctor", status="done", by=nurse)
    assert client.get(tile.url).context["page_obj"].paginator.count == 2
    # The pilots' dashboard: the same figure, linking to the same list (tests/reports checks
    # every figure's list holds exactly its rows).
    pilot = member(Role.TERRITORY_MANAGER, territory=site.territory)
    client.force_login(pilot)
    report = client.get("/api/v1/reports/continuity/")
    assert report.status_code == 200
    row = next(r for r in report.json()["results"] if r["site_id"] == site.pk)
    assert row["exams_leg_pending"] == 2


def test_exams_closed_before_the_legs_get_them_from_their_booleans(day, nurse):
    """The data migration (continuity 0003): a true boolean → done at the closing by the
    closer; false → pending (so the exam shows in the queue); the letter's leg pending for a
    treating doctor elsewhere, else not applicable with a reason."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("continuity.migrations.0003_legs_exam_legs")
    old = record_exam(day, order_number="OLD")
    closed_at = timezone.now() - timedelta(days=40)
    PendingExam.objects.filter(pk=old.pk).update(
        status="closed", closed_at=closed_at, closed_by=nurse, treating_doctor_status="elsewhere",
        dmp_deposited=True, sent_to_patient_space=False, sent_to_prescriber=True,
    )  # fmt: skip
    ExamLeg.objects.filter(exam=old).delete()

    migration.legs_from_booleans(apps, None)

    legs = {leg.leg: leg for leg in ExamLeg.objects.filter(exam=old)}
    assert {name: leg.status for name, leg in legs.items()} == {
        "dmp": "done", "patient_space": "pending", "prescriber": "done",
        "treating_doctor": "pending",
    }  # fmt: skip
    assert (legs["dmp"].at, legs["dmp"].by) == (closed_at, nurse)
    assert PendingExam.objects.filter(PendingExam.leg_missing_q(), pk=old.pk).exists()
