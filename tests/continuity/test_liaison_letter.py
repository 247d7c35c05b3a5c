"""The liaison letter to the patient's treating doctor (issue 13 § 3).

Seed 000 (FemasAURA&Co), lines 82–84: the site's software has DMP, bioserveur and MSS
(secure messaging) access, and every exam's result goes to the DMP, the patient and the
prescribing volunteer; issue 13 adds the treating doctor outside the site: closing produces a
letter (the result, what was done, whom to contact), ready to send by secure messaging.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.roles import Role
from continuity import services
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import HostSiteFactory

pytestmark = pytest.mark.django_db

EVERY = {"dmp_deposited": True, "sent_to_patient_space": True, "sent_to_prescriber": True}


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return " ".join(result.stdout.split())


def closed_for_a_doctor_elsewhere(day, nurse):
    exam = record_exam(day)
    services.exam_receive(
        exam=exam,
        by=nurse,
        abnormal=True,
        result_summary="Potassium: 6.4 mmol/L [HH] (ref. 3.5-5.0)",
    )
    services.exam_close(
        exam=exam,
        by=nurse,
        responsible="treating_doctor",
        treating_doctor_status="elsewhere",
        review_note="Patient rappelé, contrôle demandé.",
        **EVERY,
    )
    return exam


def test_the_liaison_letter_pdf_holds_the_result_and_the_volunteers_name(
    api, client, day, nurse, tmp_path
):
    """Seed 000, l. 82–84; issue 13 § 3: the letter holds the result (said as the pages say
    it), what was done, the prescribing volunteer's name and whom to call at the site."""
    day.site.phone = "02 48 00 00 00"
    day.site.save()
    exam = closed_for_a_doctor_elsewhere(day, nurse)
    volunteer = day.volunteer.user
    api.force_authenticate(nurse)

    response = api.get(f"/api/v1/exams/{exam.pk}/letter/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "Potassium : 6,4 mmol/L" in text  # the result, as continuity.results says it
    assert "très élevé" in text
    assert volunteer.get_full_name() in text  # the prescribing volunteer
    assert "Patient rappelé, contrôle demandé." in text  # what was done
    assert "02 48 00 00 00" in text  # whom to call
    assert "MSSanté" in text
    # The page offers it, with the site's secure messaging (missing here, and said so).
    client.force_login(nurse)
    page = client.get(reverse("continuity_exam", args=[exam.pk]))
    assert page.context["letter"] is True
    assert 'data-testid="liaison-letter"' in page.content.decode()
    assert page.context["mssante"] == ""
    pdf = client.get(reverse("continuity_exam_letter", args=[exam.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    # The prescriber reads it; a manager of the territory does not (403); outside, 404.
    api.force_authenticate(volunteer)
    assert api.get(f"/api/v1/exams/{exam.pk}/letter/").status_code == 200
    api.force_authenticate(member(Role.TERRITORY_MANAGER, territory=day.site.territory))
    assert api.get(f"/api/v1/exams/{exam.pk}/letter/").status_code == 403
    api.force_authenticate(member(Role.COURSE_NURSE, site=HostSiteFactory()))
    assert api.get(f"/api/v1/exams/{exam.pk}/letter/").status_code == 404


def test_there_is_no_letter_without_a_treating_doctor_elsewhere(api, day, nurse):
    """Issue 13 § 3: the letter is for a treating doctor outside the site only."""
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=False)
    services.exam_close(
        exam=exam, by=nurse, responsible="site_doctor", treating_doctor_status="at_site", **EVERY
    )
    api.force_authenticate(nurse)

    assert api.get(f"/api/v1/exams/{exam.pk}/letter/").status_code == 404
