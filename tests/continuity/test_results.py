"""Results are shown for humans (issue 12): `Potassium : 6,4 mmol/L — très élevé (réf.
3,5–5,0)`, abnormal values highlighted, the raw message one click away; and the exam page tells
who did what, when, even after an escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from accounts.roles import Role
from continuity import ingest, services
from continuity.models import AccessRecord, FollowUpTask, IncomingResult
from continuity.results import Observation, describe, read, read_line
from continuity.timeline import person
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.continuity.messages import HL7, potassium_oru

pytestmark = pytest.mark.django_db


def flag(words: str, language: str = "fr") -> str:
    """What a page in `language` says for a flag (English until the catalogue has it)."""
    with translation.override(language):
        return pgettext("lab result flag", words)


def said(text: str, language: str = "fr") -> str:
    with translation.override(language):
        return gettext(text)


@pytest.fixture
def nurse(site):
    return member(Role.COURSE_NURSE, site=site)


@pytest.fixture
def sender(site):
    """The laboratory interface account of the site."""
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def urgent(day, sender, nurse):
    """Potassium 6.4 mmol/L [HH] received through the real ingestion, matched to its exam."""
    exam = record_exam(day, order_number="CMD-K-1", patient_ref="MSP-00421")
    incoming = ingest.ingest(
        fmt="hl7v2",
        body=potassium_oru("CMD-K-1", "MSP-00421"),
        content_type=HL7,
        caller=sender,
    )
    assert incoming.outcome == IncomingResult.Outcome.MATCHED
    exam.refresh_from_db()
    return {"exam": exam, "incoming": incoming, "task": exam.tasks.get()}


def page(user, url: str, language: str = "fr") -> str:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_results_are_shown_for_humans_with_french_decimals_and_the_flag_spelled_out(urgent, nurse):
    exam_page = page(nurse, reverse("continuity_exam", args=[urgent["exam"].pk]))
    task_page = page(nurse, reverse("continuity_task", args=[urgent["task"].pk]))
    for html in (exam_page, task_page):
        assert "Potassium" in html
        assert "<strong>6,4 mmol/L</strong>" in html
        assert f">{flag('very high')}</span>" in html
        assert "3,5–5,0" in html  # French decimals, an en dash
        assert f"137 mmol/L — {flag('normal')}" in html
        assert "6.4" not in html
        assert "[HH]" not in html


def test_results_are_shown_for_humans_with_english_decimals_and_the_flag_spelled_out(urgent, nurse):
    html = page(nurse, reverse("continuity_exam", args=[urgent["exam"].pk]), language="en")
    assert "<strong>6.4 mmol/L</strong>" in html
    assert ">very high</span>" in html
    assert "(ref. 3.5–5.0)" in html
    assert "6,4" not in html


def test_one_formatter_says_an_observation_in_each_language():
    potassium = Observation("Potassium", "6.4", "mmol/L", ("HH",), "3.5-5.0")
    assert describe(potassium, "en").text == "Potassium: 6.4 mmol/L — very high (ref. 3.5–5.0)"
    french = describe(potassium, "fr")
    assert french.value == "6,4 mmol/L"
    assert french.reference.endswith("3,5–5,0")
    assert french.flag == flag("very high")
    assert french.severity == "critical"
    # The FHIR codes and the HL7 ones are the same words; a code we do not know stays as sent.
    assert describe(Observation("K", "6.9", "mmol/L", ("HU",)), "en").flag == "very high"
    assert describe(Observation("K", "2.9", "mmol/L", ("LL",)), "en").flag == "very low"
    assert describe(Observation("K", "3.1", "mmol/L", ("L",)), "en").flag == "low"
    assert describe(Observation("X", "1", "", ("AA",)), "en").flag == "very abnormal"
    assert describe(Observation("X", "1", "", ("ZZ",)), "en").flag == "ZZ"


def test_a_summary_typed_by_hand_is_read_too():
    assert read_line("Potassium 5,9 mmol/L [H]") == Observation(
        "Potassium", "5,9", "mmol/L", ("H",), ""
    )
    # Free text is kept as typed, numbers and all.
    assert read_line("Contrôle dans 3 mois") is None
    assert read_line("Kaliémie 6,1") is None
    (line,) = read("Pas d’anomalie décelable.", "en")
    assert line.described is None
    assert line.text == "Pas d’anomalie décelable."
    (line,) = read("Glycémie: 2.1 mmol/L [LL] (ref. 4.1-5.9)", "fr")
    assert line.described.value == "2,1 mmol/L"
    assert line.described.severity == "critical"


def test_abnormal_values_are_highlighted(urgent, nurse):
    html = page(nurse, reverse("continuity_exam", args=[urgent["exam"].pk]))
    # The abnormal line: its value in bold, its flag in words in an error badge (not colour
    # alone), the line marked; the normal line is none of these.
    assert 'class="releve-result--critical" data-abnormal="true"' in html
    assert (
        '<span class="fr-badge fr-badge--sm fr-badge--error releve-flag" data-severity="critical">'
        f"{flag('very high')}</span>"
    ) in html
    assert "<strong>137 mmol/L</strong>" not in html
    high = describe(Observation("Potassium", "5.6", "mmol/L", ("H",)), "en")
    assert high.highlighted
    assert "fr-badge--warning" in high.html
    assert "<strong>" in high.html
    normal = describe(Observation("Sodium", "137", "mmol/L", ("N",)), "en")
    assert not normal.highlighted
    assert "<" not in normal.html


def test_a_result_is_escaped_on_the_page():
    (line,) = read("<script>alert(1)</script>: <b>6.4</b> mmol/L [HH]", "en")
    assert "<script>" not in line.described.html
    assert "&lt;script&gt;" in line.described.html


def test_the_raw_message_is_one_click_away(urgent, nurse, outsider_site):
    exam_url = reverse("continuity_exam", args=[urgent["exam"].pk])
    raw_url = reverse("continuity_incoming_raw", args=[urgent["incoming"].pk])
    assert f'href="{raw_url}"' in page(nurse, exam_url)
    assert f'href="{raw_url}"' in page(nurse, reverse("continuity_task", args=[urgent["task"].pk]))
    html = page(nurse, raw_url)
    assert "OBX|1|NM|2823-3^Potassium^LN||6.4|mmol/L|3.5-5.0|HH|||F" in html
    assert AccessRecord.objects.filter(
        user=nurse, what="incoming_raw", object_id=str(urgent["incoming"].pk)
    ).exists()
    # Whoever does not read the message on the exam page does not read its bytes (404).
    for stranger in (member(Role.COURSE_NURSE, site=outsider_site), urgent["exam"].prescriber.user):
        client = Client()
        client.force_login(stranger)
        assert client.get(raw_url).status_code == 404


def test_the_exam_page_shows_who_did_what_when_after_an_escalation(
    urgent, nurse, territory_manager
):
    task = urgent["task"]
    assert task.assignee == nurse
    later = task.due_at + timedelta(minutes=5)
    escalation = services.escalate(task, now=later)
    assert escalation is not None
    assert escalation.to_user == territory_manager
    task.refresh_from_db()
    assert task.assignee == territory_manager
    done_at = later + timedelta(minutes=30)
    services.task_done(task=task, by=nurse, note="Patient rappelé, contrôle demain.", now=done_at)

    html = page(nurse, reverse("continuity_exam", args=[urgent["exam"].pk]))
    nurse_name, manager_name = nurse.get_full_name(), territory_manager.get_full_name()
    owner = html.split('data-testid="task-owner">')[1].split("</span>")[0]
    assert nurse_name in owner
    assert manager_name not in owner
    timeline = html.split('data-testid="timeline"')[1].split("</section>")[0]
    for kind in ("recorded", "received", "assigned", "escalated", "done"):
        assert f'data-event="{kind}"' in timeline
    assert said("Escalated from %(from)s to %(to)s (%(level)s)") % {
        "from": nurse_name,
        "to": manager_name,
        "level": FollowUpTask.Level.TERRITORY.label,
    } in timeline.replace("&quot;", '"')
    assert escalation.reason in timeline
    assert "Patient rappelé, contrôle demain." in timeline
    # In order: assigned to the nurse, escalated to the manager, done by the nurse.
    assert timeline.index('data-event="assigned"') < timeline.index('data-event="escalated"')
    assert timeline.index('data-event="escalated"') < timeline.index('data-event="done"')
    done = timeline.split('data-event="done"')[1].split("</li>")[0]
    assert nurse_name in done


def test_people_are_named_by_name_else_email_and_a_job_is_the_system(nurse):
    assert person(nurse) == nurse.get_full_name()
    nurse.first_name = nurse.last_name = ""
    assert person(nurse) == nurse.email
    with translation.override("fr"):
        assert person(None) == said("system")


def test_the_exam_page_asks_as_many_queries_whatever_its_story(
    urgent, nurse, django_assert_max_num_queries, territory_manager
):
    client = Client()
    client.force_login(nurse)
    url = reverse("continuity_exam", args=[urgent["exam"].pk])
    with django_assert_max_num_queries(40) as short:
        client.get(url)
    task = urgent["task"]
    services.task_start(task=task, by=nurse)
    services.contact_prescriber(task=task, by=nurse, question="Un contrôle ?")
    services.escalate(task, now=timezone.now() + timedelta(days=10))
    services.task_done(task=task, by=nurse, note="Fait.")
    with django_assert_max_num_queries(len(short.captured_queries)):
        client.get(url)
