from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import VolunteerFactory, make_public_site, open_day


@pytest.fixture
def march(db):
    """One full day and two half-days done in March 2027, plus noise that must not count."""
    volunteer = VolunteerFactory()
    site = make_public_site(city="Châteaumeillant")
    other = make_public_site()
    done = {"status": "done", "volunteer": volunteer}
    open_day(site, date(2027, 3, 2), indemnity=Decimal("200.00"), consultations_count=19, **done)
    open_day(
        site, date(2027, 3, 9), "am", indemnity=Decimal("100.00"), consultations_count=8, **done
    )
    open_day(
        other, date(2027, 3, 23), "pm", indemnity=Decimal("100.00"), consultations_count=7, **done
    )
    open_day(site, date(2027, 4, 1), indemnity=Decimal("200.00"), **done)  # April
    open_day(site, date(2027, 3, 30), status="booked", volunteer=volunteer)  # not done
    open_day(site, date(2027, 3, 16), status="done", volunteer=VolunteerFactory(),
             indemnity=Decimal("200.00"))  # someone else  # fmt: skip
    return volunteer, site


def test_a_month_with_one_day_and_two_half_days_totals_400_euros(api, march):
    volunteer, site = march
    api.force_authenticate(volunteer.user)

    body = api.get("/api/v1/volunteers/me/statement/", {"month": "2027-03"}).json()

    assert body["amount"] == "400.00"
    assert body["days"] == "2.0"
    assert body["consultations"] == 34
    assert [line["date"] for line in body["lines"]] == ["2027-03-02", "2027-03-09", "2027-03-23"]
    assert body["lines"][0]["site_name"] == site.name


def test_the_pdf_statement_shows_the_days_and_the_total(api, march, tmp_path):
    volunteer, site = march
    api.force_authenticate(volunteer.user)

    response = api.get("/api/v1/volunteers/me/statement/pdf/", {"month": "2027-03"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "400,00 €" in text  # 400.00 EUR, written the French way
    assert "mars 2027" in text
    assert volunteer.rpps in text
    assert "02/03/2027" in text
    assert "23/03/2027" in text
    assert "01/04/2027" not in text


@pytest.mark.parametrize("month", ["", "2027-13", "03-2027", "2027-3"])
def test_a_bad_month_answers_400_naming_it(api, march, month):
    api.force_authenticate(march[0].user)

    response = api.get("/api/v1/volunteers/me/statement/", {"month": month})

    assert response.status_code == 400
    assert "month" in response.json()


def test_someone_without_a_profile_has_no_statement(api, user):
    api.force_authenticate(user)

    assert api.get("/api/v1/volunteers/me/statement/", {"month": "2027-03"}).status_code == 404
