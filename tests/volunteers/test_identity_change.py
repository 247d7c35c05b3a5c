"""Hole 5: a verified volunteer who changes who it is (RPPS number, name) is verified again.

The verification named a person and a number checked against the Order's register: once
either changes, the profile goes back to `pending` (no new booking) and the managers who verify
are told. A manager who verifies the volunteer may correct them without that.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Notification
from accounts.roles import Role
from tests.conftest import member
from tests.factories import TerritoryFactory, VolunteerFactory
from tests.volunteers.test_pages import profile_data, valid_rpps
from volunteers import services
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings):
    settings.RELEVE_ENFORCE_MFA = False


@pytest.fixture
def territory(db):
    return TerritoryFactory()


@pytest.fixture
def manager(territory):
    return member(Role.TERRITORY_MANAGER, territory=territory)


@pytest.fixture
def verified(territory, manager):
    """A volunteer of `territory`, verified by its manager."""
    volunteer = VolunteerFactory(status="pending", territories=[territory])
    volunteer.user.first_name, volunteer.user.last_name = "Claire", "Martin"
    volunteer.user.save()
    return services.volunteer_verify(volunteer=volunteer, by=manager, evidence="CDOM 18/1234")


def _told(manager) -> list[Notification]:
    return list(Notification.objects.filter(kind="volunteer_identity_changed", recipient=manager))


@pytest.mark.parametrize(
    "change",
    [{"rpps": valid_rpps(77)}, {"first_name": "Clara"}, {"last_name": "Martin-Durand"}],
    ids=["rpps", "first_name", "last_name"],
)
def test_hole5_an_identity_change_through_the_api_sends_the_profile_back_to_pending(
    api, verified, manager, change
):
    api.force_authenticate(verified.user)
    response = api.patch("/api/v1/volunteers/me/", change, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    verified.refresh_from_db()
    verified.user.refresh_from_db()
    assert verified.status == Volunteer.Status.PENDING
    assert (verified.verified_at, verified.verified_by, verified.verification_evidence) == (
        None,
        None,
        "",
    )
    ((field, value),) = change.items()
    owner = verified if field == "rpps" else verified.user
    assert getattr(owner, field) == value
    assert not Volunteer.objects.eligible().filter(pk=verified.pk).exists()
    [told] = _told(manager)
    assert told.link == reverse("volunteer_detail", args=[verified.pk])
    # The manager verifies again; the history keeps both verifications.
    api.force_authenticate(manager)
    again = api.post(f"/api/v1/volunteers/{verified.pk}/verify/", {"evidence": "CDOM, nouveau"})
    assert again.status_code == 200
    assert again.json()["status"] == "verified"


def test_hole5_other_changes_or_the_same_identity_keep_verified(api, verified, manager):
    api.force_authenticate(verified.user)
    same = {"rpps": verified.rpps, "first_name": "Claire", "last_name": " Martin "}
    response = api.patch("/api/v1/volunteers/me/", {**same, "software": "Weda"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "verified"
    verified.refresh_from_db()
    assert (verified.status, verified.software) == ("verified", "Weda")
    assert _told(manager) == []


def test_hole5_a_manager_who_verifies_may_correct_the_name_without_reverifying(
    api, verified, manager
):
    api.force_authenticate(manager)
    response = api.patch(
        f"/api/v1/volunteers/{verified.pk}/", {"last_name": "Martin-Durand"}, format="json"
    )
    assert response.status_code == 200, response.json()
    verified.refresh_from_db()
    assert verified.status == "verified"
    assert verified.user.last_name == "Martin-Durand"
    assert _told(manager) == []


def test_hole5_an_identity_change_on_the_profile_page_sends_the_profile_back_to_pending(
    client, verified, manager, territory
):
    client.force_login(verified.user)
    unchanged = profile_data(territories=[territory], rpps=verified.rpps)
    kept = client.post(reverse("volunteer_profile"), unchanged, follow=True)
    assert kept.status_code == 200
    verified.refresh_from_db()
    assert verified.status == "verified"
    assert _told(manager) == []

    renamed = client.post(
        reverse("volunteer_profile"), {**unchanged, "last_name": "Martin-Durand"}, follow=True
    )
    assert renamed.status_code == 200
    html = renamed.content.decode()
    assert 'data-status="pending"' in html  # the profile's badge
    assert "fr-alert--warning" in html  # and why
    verified.refresh_from_db()
    assert (verified.status, verified.user.last_name) == ("pending", "Martin-Durand")
    assert len(_told(manager)) == 1
