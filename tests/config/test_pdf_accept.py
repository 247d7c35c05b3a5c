"""The PDF downloads of the API answer `Accept: application/pdf` (their own type) as well as
`*/*` (API.md § Conventions); their errors stay JSON."""

from __future__ import annotations

import subprocess
from datetime import date, datetime

import pytest
import time_machine

from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, handed_over, make_public_site, open_day
from vacations import services
from vacations.models import PARIS

ACCEPTS = ["application/pdf", "*/*"]


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_sheet_pdf_answers_its_own_type(api, db, tmp_path, accept):
    site = make_public_site(name="Maison de santé d’Éguzon")

    response = api.get(f"/api/v1/sites/{site.pk}/info-sheet/pdf/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "Maison de santé d’Éguzon" in text
    assert "Studio au-dessus de la MSP" in text


@pytest.fixture
def march(db):
    """A volunteer with one day done in March 2027."""
    site = make_public_site()
    secretary = member(Role.SECRETARY, site=site)
    volunteer = VolunteerFactory()
    day = open_day(site, date(2027, 3, 9))
    with time_machine.travel(datetime(2027, 3, 1, 10, 0, tzinfo=PARIS), tick=False):
        services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
    handed_over(day)
    services.vacation_complete(
        vacation=day,
        by=secretary,
        consultations_count=17,
        no_exams=True,
        now=datetime(2027, 3, 9, 18, 0, tzinfo=PARIS),
    )
    return volunteer


@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_statement_pdf_answers_its_own_type(api, march, tmp_path, accept):
    api.force_authenticate(march.user)

    response = api.get(
        "/api/v1/volunteers/me/statement/pdf/", {"month": "2027-03"}, HTTP_ACCEPT=accept
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "mars 2027" in text
    assert "09/03/2027" in text
    assert "200,00 €" in text


def test_an_error_asked_as_pdf_is_still_json(api, march):
    api.force_authenticate(march.user)

    response = api.get(
        "/api/v1/volunteers/me/statement/pdf/", {"month": "2027-13"}, HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "month" in response.json()


def test_an_unpublished_sheet_asked_as_pdf_is_a_json_404(api, site):
    response = api.get(f"/api/v1/sites/{site.pk}/info-sheet/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
