"""Hole 6 (text inputs): a NUL character anywhere in a request's text is a 400 naming the field,
never a 500 (PostgreSQL cannot compare or store U+0000), and changes nothing.

Run on PostgreSQL too (`DATABASE_URL=postgres://...`): there, a NUL in a URL's lookup value
or a related object's key answered 500 before; elsewhere it was silently taken (a filter
matching nothing) or refused by one form and not by the next.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from continuity.models import Handover, IncomingResult
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings):
    settings.RELEVE_ENFORCE_MFA = False


def _names(response, *fields):
    """The API's 400: `{field: [message]}`, each field named."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(fields) <= set(body), body
    assert all(isinstance(body[field], list) and body[field] for field in fields)
    return body


def test_hole6_a_nul_in_an_api_url_answers_400_naming_the_path(api, volunteer):
    api.force_authenticate(volunteer)
    _names(api.get("/api/v1/regions/%00/"), "path")
    _names(api.get("/api/v1/sites/%00/"), "path")
    assert api.get("/api/v1/regions/24/").status_code == 200
    api.force_authenticate(None)
    _names(api.get("/api/v1/regions/%00/"), "path")  # before any authentication


def test_hole6_a_nul_in_a_page_url_answers_a_400_page(client):
    for url in ("/calendar/%00.ics", "/calendar/site/ab%00cd.ics", "/sites/%00/"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert 'data-testid="bad-request"' in response.content.decode()


def test_hole6_a_nul_in_a_query_string_answers_400_naming_the_parameter(
    api, client, volunteer, territory_manager
):
    api.force_authenticate(territory_manager)
    _names(api.get("/api/v1/vacations/", {"status": NUL}), "status")
    _names(api.get("/api/v1/territories/", {"region": "2" + NUL}), "region")
    _names(api.get("/api/v1/vacations/", {"date_after": "2027-01-01", NUL + "x": "1"}), "x")
    client.force_login(territory_manager)
    page = client.get(reverse("site_list"), {"q": "Berry" + NUL})
    assert page.status_code == 400
    assert "<code>q</code>" in page.content.decode()


def test_hole6_a_nul_in_a_json_body_answers_400_naming_the_field_and_changes_nothing(api, db):
    volunteer = VolunteerFactory(software="Weda")
    api.force_authenticate(volunteer.user)
    body = _names(
        api.patch(
            "/api/v1/volunteers/me/",
            {"home_department": NUL, "software": "MLM", "preferred_territories": [NUL]},
            format="json",
        ),
        "home_department",
        "preferred_territories",
    )
    assert "software" not in body
    volunteer.refresh_from_db()
    assert (volunteer.software, str(volunteer.home_department_id)) == ("Weda", "45")
    # A nested value (a list of objects) is found too, and named by its field.
    _names(
        api.post(
            "/api/v1/handovers/",
            {"vacation": 1, "text": "RAS", "patient_refs": ["A-1", "B" + NUL]},
            format="json",
        ),
        "patient_refs",
    )
    assert not Handover.objects.exists()
    assert Volunteer.objects.get(pk=volunteer.pk).software == "Weda"


def test_hole6_a_nul_in_a_posted_form_answers_400_naming_the_field(api, client, user):
    login = client.post(reverse("account_login"), {"login": NUL, "password": "x"})
    assert login.status_code == 400
    assert "<code>login</code>" in login.content.decode()
    api.force_authenticate(user)
    _names(api.post("/api/v1/volunteers/", {"software": "a" + NUL}), "software")  # a form body
    assert not Volunteer.objects.exists()


def test_hole6_raw_result_messages_are_left_to_ingestion(api):
    """The bodies of the result endpoints are stored raw and handled by ingestion: the check
    does not read them, whatever their content type says."""
    site = make_public_site()
    api.force_authenticate(member(Role.COURSE_NURSE, site=site))
    response = api.generic(
        "POST",
        "/api/v1/results/hl7/",
        "a=%00&b=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422, response.content
    assert response.json()["status"] == "invalid"
    assert IncomingResult.objects.get().pk == response.json()["incoming"]
