from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from sites.models import Membership
from tests.conftest import member
from tests.factories import TerritoryFactory, UserFactory, VolunteerFactory
from volunteers.models import Commitment, Volunteer

VALID_RPPS = "10003456786"


def profile(**overrides):
    return {
        "first_name": "Pierre", "last_name": "Martin", "rpps": VALID_RPPS,
        "practice_status": "retired", "home_department": "45", "software": "Weda",
        "mss_address": "pierre.martin@medecin.mssante.fr", "phone": "06 12 34 56 78",
        **overrides,
    }  # fmt: skip


def test_a_signed_in_doctor_creates_its_profile_pending_verification(api, user):
    territory = TerritoryFactory()
    api.force_authenticate(user)

    response = api.post(
        "/api/v1/volunteers/", profile(preferred_territories=[territory.pk]), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["commitment_valid"], body["max_days_per_month"]) == (
        "pending", False, "2.0",
    )  # fmt: skip
    volunteer = Volunteer.objects.get(user=user)
    assert list(volunteer.preferred_territories.all()) == [territory]
    assert Membership.objects.filter(user=user, role=Role.VOLUNTEER).exists()
    user.refresh_from_db()
    assert user.get_full_name() == "Pierre Martin"
    api.force_authenticate(user)
    assert api.get("/api/v1/me/").json()["volunteer"] == volunteer.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rpps": "10003456787"}, "rpps"),  # wrong check digit
        ({"rpps": "1000345678"}, "rpps"),
        ({"practice_status": "astronaut"}, "practice_status"),
        ({"mss_address": "pierre@gmail.com"}, "mss_address"),
        ({"phone": "123"}, "phone"),
        ({"home_department": "99"}, "home_department"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(api, user, overrides, field):
    api.force_authenticate(user)

    response = api.post("/api/v1/volunteers/", profile(**overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Volunteer.objects.exists()
    assert not Membership.objects.filter(user=user).exists()


def test_an_rpps_is_unique(api, user):
    VolunteerFactory(rpps=VALID_RPPS)
    api.force_authenticate(user)

    response = api.post("/api/v1/volunteers/", profile(), format="json")

    assert response.status_code == 400
    assert "rpps" in response.json()


def test_signing_the_charter_makes_the_commitment_valid_for_twelve_months(api, db):
    volunteer = VolunteerFactory(committed=False)
    api.force_authenticate(volunteer.user)

    wrong = api.post("/api/v1/volunteers/me/commitment/", {"charter_version": "0"}, format="json")
    signed = api.post(
        "/api/v1/volunteers/me/commitment/",
        {"charter_version": "1", "channels": ["mssante", "teleconsultation"]},
        format="json",
    )

    assert wrong.status_code == 400
    assert "charter_version" in wrong.json()
    assert signed.status_code == 201
    commitment = Commitment.objects.get(volunteer=volunteer)
    assert commitment.channels == ["mssante", "teleconsultation"]
    assert commitment.response_hours == 72
    assert commitment.valid_until == timezone.localdate() + timedelta(days=365)
    assert api.get("/api/v1/volunteers/me/").json()["commitment_valid"] is True


def test_a_manager_verifies_a_volunteer_and_the_evidence_is_kept(api, territory_manager, site):
    volunteer = VolunteerFactory(status="pending")
    volunteer.preferred_territories.add(site.territory)
    api.force_authenticate(territory_manager)

    missing = api.post(f"/api/v1/volunteers/{volunteer.pk}/verify/", {}, format="json")
    verified = api.post(
        f"/api/v1/volunteers/{volunteer.pk}/verify/",
        {"evidence": "Inscription vérifiée au tableau du CDOM du Loiret le 01/03"},
        format="json",
    )

    assert missing.status_code == 400
    assert "evidence" in missing.json()
    assert verified.json()["status"] == "verified"
    volunteer.refresh_from_db()
    assert volunteer.verified_by == territory_manager
    assert volunteer.verified_at is not None
    assert "CDOM" in volunteer.verification_evidence


def test_scope_of_volunteer_profiles(api, secretary, territory_manager, site):
    chose_us = VolunteerFactory(territories=[site.territory])
    elsewhere = VolunteerFactory(territories=[TerritoryFactory(department_id="12")])
    other = VolunteerFactory(territories=[TerritoryFactory(department_id="12")])
    anywhere = VolunteerFactory()  # chose no territory: ready to go anywhere
    api.force_authenticate(secretary)

    listed = {v["id"] for v in api.get("/api/v1/volunteers/").json()["results"]}
    verify = api.post(f"/api/v1/volunteers/{chose_us.pk}/verify/", {"evidence": "x"})
    api.force_authenticate(other.user)
    foreign = api.get(f"/api/v1/volunteers/{elsewhere.pk}/")
    edit_foreign = api.patch(f"/api/v1/volunteers/{elsewhere.pk}/", {"software": "X"})

    assert listed == {chose_us.pk, anywhere.pk}
    assert verify.status_code == 403
    assert foreign.status_code == 404
    assert edit_foreign.status_code == 404


def test_only_a_manager_raises_the_monthly_maximum_and_it_is_recorded(api, territory_manager, site):
    volunteer = VolunteerFactory()
    volunteer.preferred_territories.add(site.territory)
    api.force_authenticate(volunteer.user)
    own = api.patch("/api/v1/volunteers/me/", {"max_days_per_month": "5"}, format="json")
    api.force_authenticate(territory_manager)
    raised = api.patch(
        f"/api/v1/volunteers/{volunteer.pk}/", {"max_days_per_month": "5"}, format="json"
    )

    assert own.json()["max_days_per_month"] == "2.0"
    assert raised.json()["max_days_per_month"] == "5.0"
    record = volunteer.history.first()
    assert record.history_user == territory_manager
    assert record.diff_against(record.prev_record).changed_fields == ["max_days_per_month"]


def test_the_manager_is_warned_when_the_doctor_practises_in_a_priority_zone(
    api, territory_manager, site
):
    volunteer = VolunteerFactory(practice_territory=TerritoryFactory(is_priority=True))
    volunteer.preferred_territories.add(site.territory)
    api.force_authenticate(territory_manager)

    body = api.get(f"/api/v1/volunteers/{volunteer.pk}/").json()

    assert body["practises_in_priority_zone"] is True


def test_a_volunteer_declares_availability_for_future_dates_only(api, db):
    volunteer = VolunteerFactory()
    api.force_authenticate(volunteer.user)
    tomorrow = timezone.localdate() + timedelta(days=1)
    yesterday = timezone.localdate() - timedelta(days=1)

    ok = api.post(
        "/api/v1/volunteers/me/availability/",
        {"date": str(tomorrow), "period": "am"},
        format="json",
    )
    past = api.post("/api/v1/volunteers/me/availability/", {"date": str(yesterday)}, format="json")
    unknown = api.post(
        "/api/v1/volunteers/me/availability/",
        {"date": str(tomorrow), "period": "night"},
        format="json",
    )
    listed = api.get("/api/v1/volunteers/me/availability/").json()

    assert ok.status_code == 201
    assert past.status_code == 400
    assert "date" in past.json()
    assert unknown.status_code == 400
    assert "period" in unknown.json()
    assert [(a["date"], a["period"]) for a in listed["results"]] == [(str(tomorrow), "am")]


def test_someone_without_a_profile_gets_404_on_me(api, db):
    api.force_authenticate(UserFactory())

    assert api.get("/api/v1/volunteers/me/").status_code == 404


def test_an_ars_manager_sees_the_volunteers_of_its_region(api, ars_manager):
    from_loiret = VolunteerFactory(home_department_id="45")
    from_aveyron = VolunteerFactory(home_department_id="12")
    api.force_authenticate(ars_manager)

    listed = {v["id"] for v in api.get("/api/v1/volunteers/").json()["results"]}

    assert from_loiret.pk in listed
    assert from_aveyron.pk not in listed


def test_seeing_a_volunteer_as_site_staff_does_not_make_a_manager_of_you(api, site):
    from tests.factories import HostSiteFactory

    elsewhere = HostSiteFactory(territory=TerritoryFactory(department_id="36"))
    user = member(Role.TERRITORY_MANAGER, territory=site.territory)
    Membership.objects.create(user=user, role=Role.SECRETARY, site=elsewhere)
    volunteer = VolunteerFactory(status="pending", home_department_id="12")
    volunteer.preferred_territories.add(elsewhere.territory)
    api.force_authenticate(user)

    seen = api.get(f"/api/v1/volunteers/{volunteer.pk}/")
    verify = api.post(f"/api/v1/volunteers/{volunteer.pk}/verify/", {"evidence": "vu"})

    assert seen.status_code == 200
    assert verify.status_code == 403
    volunteer.refresh_from_db()
    assert volunteer.status == "pending"


def test_after_sign_up_a_doctor_lands_on_the_volunteer_profile(client, db):
    response = client.post(
        "/accounts/signup/",
        {"email": "dr.neuf@example.fr", "password1": "un-mot-de-passe-solide",
         "password2": "un-mot-de-passe-solide"},
    )  # fmt: skip

    assert response.status_code == 302
    assert response.url == "/volontaire/profil/"
