"""Never a 500 on a state the API can meet: a service's `ValidationError` or `DomainError` is
answered 400/409 by the API's one exception handler (config/api.py), naming the field."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from rest_framework.exceptions import PermissionDenied

from accounts.errors import DomainError
from accounts.roles import Role
from config.api import exception_handler
from sites import services as sites_services
from sites.models import HostSite, InfoSheet
from tests.conftest import member
from tests.factories import (
    HostSiteFactory,
    VolunteerFactory,
    make_public_site,
    make_sheet,
    open_day,
)
from vacations import services as vacations_services
from vacations.models import PARIS

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_handler_names_the_fields_of_a_django_validation_error():
    by_field = exception_handler(ValidationError({"reason": ["Non."], NON_FIELD_ERRORS: ["X"]}), {})
    plain = exception_handler(ValidationError("Pas comme ça."), {})
    refused = exception_handler(
        DomainError("duplicate_order_number", "Déjà pris.", field="order_number"), {}
    )
    forbidden = exception_handler(PermissionDenied("Non."), {})

    assert (by_field.status_code, by_field.data) == (
        400,
        {"reason": ["Non."], "non_field_errors": ["X"]},
    )
    assert (plain.status_code, plain.data) == (400, {"non_field_errors": ["Pas comme ça."]})
    assert refused.status_code == 409
    assert refused.data == {
        "code": "duplicate_order_number",
        "detail": "Déjà pris.",
        "field": "order_number",
    }
    assert forbidden.data["code"] == "permission_denied"


class TestInfoSheetOfASiteWithoutOne:
    @pytest.fixture
    def bare(self, db):
        """A site registered without a sheet (by the admin, or before sheets existed)."""
        site = HostSiteFactory()
        InfoSheet.objects.filter(site=site).delete()
        return HostSite.objects.get(pk=site.pk)

    def test_its_staff_get_the_empty_draft_to_fill_in(self, api, bare):
        api.force_authenticate(member(Role.SECRETARY, site=bare))

        response = api.get(f"/api/v1/sites/{bare.pk}/info-sheet/")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "draft"
        assert {row["code"] for row in body["readiness"]}  # the catalogue's items, to fill in
        assert InfoSheet.objects.filter(site=bare, status="draft").count() == 1
        assert api.get(f"/api/v1/sites/{bare.pk}/info-sheet/").status_code == 200
        assert InfoSheet.objects.filter(site=bare).count() == 1

    def test_its_pdf_is_served_to_its_manager(self, api, bare):
        api.force_authenticate(member(Role.TERRITORY_MANAGER, territory=bare.territory))

        response = api.get(f"/api/v1/sites/{bare.pk}/info-sheet/pdf/")

        assert response.status_code == 200
        assert response.content.startswith(b"%PDF")

    def test_the_public_and_outsiders_get_404(self, api, bare, outsider_site):
        anonymous = api.get(f"/api/v1/sites/{bare.pk}/info-sheet/")
        api.force_authenticate(member(Role.SECRETARY, site=outsider_site))
        outsider = api.get(f"/api/v1/sites/{bare.pk}/info-sheet/pdf/")

        assert (anonymous.status_code, outsider.status_code) == (404, 404)
        assert not InfoSheet.objects.filter(site=bare).exists()


def test_a_sheet_with_a_stored_value_now_invalid_is_refused_naming_it(api, site):
    sheet = make_sheet(site, complete=True)  # every section filled: submitted but for this
    # Written before the 200-a-day maximum existed (no database constraint backs it).
    InfoSheet.objects.filter(pk=sheet.pk).update(daily_consultations=500)
    api.force_authenticate(member(Role.SECRETARY, site=site))

    response = api.post(f"/api/v1/sites/{site.pk}/info-sheet/submit/")

    assert response.status_code == 400
    assert list(response.json()) == ["daily_consultations"]
    sheet.refresh_from_db()
    assert sheet.status == "draft"


def test_a_site_name_taken_in_the_territory_is_a_non_field_error(api, site):
    api.force_authenticate(member(Role.TERRITORY_MANAGER, territory=site.territory))

    response = api.post(
        "/api/v1/sites/",
        {"name": site.name, "kind": "msp", "territory": site.territory_id, "rooms": 1},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert HostSite.objects.filter(name=site.name).count() == 1


def test_a_volunteer_withdraws_from_a_day_of_a_site_suspended_since(api, db):
    site = make_public_site(rooms=2)
    secretary = member(Role.SECRETARY, site=site)
    volunteer = VolunteerFactory(territories=[site.territory])
    day = open_day(site, date(2027, 3, 9))
    vacations_services.vacation_book(vacation=day, volunteer=volunteer, by=secretary)
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    sites_services.site_update(site=site, by=manager, status="suspended")
    api.force_authenticate(volunteer.user)

    response = api.post(f"/api/v1/vacations/{day.pk}/withdraw/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["volunteer"]) == ("open", None)
    day.refresh_from_db()
    assert (day.status, day.volunteer) == ("open", None)
