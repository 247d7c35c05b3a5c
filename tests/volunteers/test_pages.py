"""Volunteer pages: sign-up, commitment, availability, calendar link; managers' list and page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from sites.models import Membership
from sites.validators import luhn_is_valid
from tests.conftest import member
from tests.factories import TerritoryFactory, UserFactory, VolunteerFactory
from volunteers.charter import CURRENT_VERSION
from volunteers.models import COMMITMENT_VALIDITY, Availability, Commitment, Volunteer

WARNING = 'data-testid="priority-zone-warning"'


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings):
    # Managers must enrol a second factor when it is enforced; these tests are not about that.
    settings.RELEVE_ENFORCE_MFA = False


def valid_rpps(n: int = 1) -> str:
    base = f"20{n:08d}"
    return next(base + str(d) for d in range(10) if luhn_is_valid(base + str(d)))


def wrong_check_digit(rpps: str) -> str:
    return rpps[:-1] + str((int(rpps[-1]) + 1) % 10)


def profile_data(territories=(), **values) -> dict:
    return {
        "first_name": "Claire",
        "last_name": "Martin",
        "rpps": valid_rpps(),
        "practice_status": "retired",
        "home_department": "45",
        "software": "Weda",
        "mss_address": "claire.martin@medecin.mssante.fr",
        "phone": "06 12 34 56 78",
        "preferred_territories": [t.pk for t in territories],
        "practice_territory": "",
        **values,
    }


def commitment_data(**values) -> dict:
    return {
        "charter_version": CURRENT_VERSION,
        "channels": ["mssante", "phone"],
        "response_hours": 72,
        "accept": "on",
        **values,
    }


def volunteer_in(territory, **fields) -> Volunteer:
    volunteer = VolunteerFactory(**fields)
    volunteer.preferred_territories.set([territory])
    return volunteer


def field_in_error(html: str, name: str) -> bool:
    """The field's DSFR group is marked in error and its message is tied to the widget."""
    group = re.search(rf'class="fr-(?:input|select)-group [^"]*--error" data-field="{name}"', html)
    message = re.search(
        rf'id="id_{name}_error"[^>]*>\s*<p class="fr-message fr-message--error">', html
    )
    widget = re.search(rf'<(?:input|select|textarea)[^>]*\bid="id_{name}"[^>]*>', html)
    tied = widget and 'aria-invalid="true"' in widget[0] and f"id_{name}_error" in widget[0]
    return bool(group and message and tied)


# --- Sign-up ----------------------------------------------------------------------------------


def test_a_doctor_signs_up_registers_and_commits_in_three_pages(client, db, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    settings.ACCOUNT_SIGNUP_REDIRECT_URL = "volunteer_profile"
    berry, sancerre = TerritoryFactory(name="Berry Grand Sud"), TerritoryFactory()
    practice = TerritoryFactory(department_id="36", is_priority=False)

    signup = client.post(
        reverse("account_signup"),
        {"email": "c.martin@example.fr", "password1": "un-mot-de-passe-solide",
         "password2": "un-mot-de-passe-solide"},
    )  # fmt: skip
    form_page = client.get(signup.url)
    registered = client.post(
        reverse("volunteer_profile"),
        profile_data([berry, sancerre], practice_territory=practice.pk),
    )
    charter_page = client.get(registered.url)
    committed = client.post(reverse("volunteer_commitment"), commitment_data())

    assert signup.status_code == 302
    assert signup.url == reverse("volunteer_profile")
    assert form_page.status_code == 200
    assert 'data-testid="profile-form"' in form_page.content.decode()
    assert registered.status_code == 302
    assert registered.url == reverse("volunteer_commitment")
    assert charter_page.status_code == 200
    charter = charter_page.content.decode()
    assert "<strong>Suivi à distance.</strong>" in charter
    assert "<ol><li>" in charter
    assert committed.status_code == 302
    assert committed.url == reverse("volunteer_availability")

    volunteer = Volunteer.objects.get(user__email="c.martin@example.fr")
    assert volunteer.status == Volunteer.Status.PENDING
    assert (volunteer.user.first_name, volunteer.user.last_name) == ("Claire", "Martin")
    assert volunteer.rpps == valid_rpps()
    assert volunteer.home_department_id == "45"
    assert volunteer.practice_territory == practice
    assert set(volunteer.preferred_territories.all()) == {berry, sancerre}
    assert Membership.objects.filter(user=volunteer.user, role=Role.VOLUNTEER).count() == 1
    commitment = volunteer.commitments.get()
    assert commitment.charter_version == CURRENT_VERSION
    assert commitment.channels == ["mssante", "phone"]
    assert commitment.response_hours == 72
    assert commitment.valid_until == timezone.localdate() + COMMITMENT_VALIDITY
    assert COMMITMENT_VALIDITY == timedelta(days=365)
    assert volunteer.current_commitment() == commitment


def test_it_refuses_a_wrong_rpps_check_digit_inline_and_writes_nothing(client, user):
    client.force_login(user)

    response = client.post(
        reverse("volunteer_profile"), profile_data(rpps=wrong_check_digit(valid_rpps()))
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["rpps"]
    html = response.content.decode()
    assert field_in_error(html, "rpps")
    assert not field_in_error(html, "first_name")
    assert not Volunteer.objects.exists()
    assert not Membership.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Camille", user.last_name)
    assert user.last_name != "Martin"


def test_it_accepts_an_rpps_typed_with_spaces_and_refuses_one_already_registered(client, user):
    taken = VolunteerFactory().rpps
    client.force_login(user)

    duplicate = client.post(reverse("volunteer_profile"), profile_data(rpps=taken))
    spaced = client.post(
        reverse("volunteer_profile"), profile_data(rpps=" ".join(re.findall("...?", valid_rpps())))
    )

    assert duplicate.status_code == 200
    assert field_in_error(duplicate.content.decode(), "rpps")
    assert spaced.status_code == 302
    assert Volunteer.objects.get(user=user).rpps == valid_rpps()


def test_a_service_refusal_lands_next_to_its_field(client, user):
    client.force_login(user)

    response = client.post(
        reverse("volunteer_profile"), profile_data(mss_address="claire@gmail.com")
    )

    assert response.status_code == 200
    assert field_in_error(response.content.decode(), "mss_address")
    assert not Volunteer.objects.exists()


def test_a_volunteer_edits_its_profile_through_the_same_page(client, db):
    berry = TerritoryFactory()
    volunteer = VolunteerFactory(software="MLM")
    client.force_login(volunteer.user)

    page = client.get(reverse("volunteer_profile"))
    saved = client.post(
        reverse("volunteer_profile"),
        profile_data(
            [berry],
            rpps=volunteer.rpps,
            first_name=volunteer.user.first_name,
            last_name=volunteer.user.last_name,
            software="Weda",
        ),
    )

    assert page.status_code == 200
    assert page.context["form"]["rpps"].value() == volunteer.rpps
    assert saved.status_code == 302
    assert saved.url == reverse("volunteer_profile")  # its commitment is valid
    volunteer.refresh_from_db()
    assert volunteer.software == "Weda"
    assert list(volunteer.preferred_territories.all()) == [berry]
    assert volunteer.history.latest().history_user == volunteer.user
    # Editing what is not its identity keeps the verification (test_identity_change.py).
    assert volunteer.status == Volunteer.Status.VERIFIED


def test_the_volunteer_pages_need_a_profile_and_a_signed_in_user(client, user):
    anonymous = client.get(reverse("volunteer_profile"))
    client.force_login(user)
    commitment = client.get(reverse("volunteer_commitment"))
    availability = client.get(reverse("volunteer_availability"))
    rotate = client.post(reverse("volunteer_calendar_rotate"))

    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("account_login"))
    assert commitment.url == reverse("volunteer_profile")
    assert availability.url == reverse("volunteer_profile")
    assert rotate.status_code == 404


# --- Commitment and availability -----------------------------------------------------------


def test_it_signs_only_with_the_explicit_consent_and_a_channel(client, db):
    volunteer = VolunteerFactory(committed=False)
    client.force_login(volunteer.user)

    no_consent = client.post(reverse("volunteer_commitment"), commitment_data(accept=""))
    no_channel = client.post(reverse("volunteer_commitment"), commitment_data(channels=[]))
    old_charter = client.post(reverse("volunteer_commitment"), commitment_data(charter_version="0"))

    assert no_consent.status_code == 200
    assert list(no_consent.context["form"].errors) == ["accept"]
    assert no_channel.status_code == 200
    assert list(no_channel.context["form"].errors) == ["channels"]  # the service's refusal
    assert old_charter.status_code == 200
    assert list(old_charter.context["form"].errors) == ["charter_version"]
    assert not Commitment.objects.exists()


def test_it_shows_the_current_commitment_and_renews_it(client, db):
    volunteer = VolunteerFactory()
    signed = volunteer.commitments.get()
    client.force_login(volunteer.user)

    page = client.get(reverse("volunteer_commitment"))
    renewed = client.post(
        reverse("volunteer_commitment"),
        commitment_data(channels=["teleconsultation"], response_hours=48),
    )

    assert page.status_code == 200
    assert 'data-testid="current-commitment"' in page.content.decode()
    assert page.context["commitment"] == signed
    assert renewed.status_code == 302
    latest = volunteer.current_commitment()
    assert (latest.channels, latest.response_hours) == (["teleconsultation"], 48)
    assert volunteer.commitments.count() == 2


def test_a_volunteer_declares_an_upcoming_availability(client, db):
    berry, other = TerritoryFactory(), TerritoryFactory()
    volunteer = volunteer_in(berry)
    Availability.objects.create(volunteer=volunteer, date=timezone.localdate() - timedelta(days=3))
    client.force_login(volunteer.user)
    day = timezone.localdate() + timedelta(days=10)

    form_page = client.get(reverse("volunteer_availability"))
    declared = client.post(
        reverse("volunteer_availability"),
        {"date": day.isoformat(), "period": "am", "territories": [other.pk], "note": "En train"},
    )
    past = client.post(
        reverse("volunteer_availability"),
        {"date": (timezone.localdate() - timedelta(days=1)).isoformat(), "period": "day"},
    )
    listing = client.get(reverse("volunteer_availability"))

    assert form_page.context["form"]["territories"].value() == [berry.pk]  # preferred, ticked
    assert declared.status_code == 302
    availability = volunteer.availabilities.get(date=day)
    assert (availability.period, availability.note) == ("am", "En train")
    assert list(availability.territories.all()) == [other]
    assert past.status_code == 200
    assert field_in_error(past.content.decode(), "date")
    assert volunteer.availabilities.count() == 2
    assert [a.date for a in listing.context["page_obj"]] == [day]  # upcoming only
    assert f'data-availability="{availability.pk}"' in listing.content.decode()


def test_rotating_the_calendar_link_makes_the_old_one_404(client, db):
    volunteer = VolunteerFactory()
    old_token = volunteer.calendar_token
    old_url = reverse("volunteer_calendar", kwargs={"token": old_token})
    client.force_login(volunteer.user)

    page = client.get(reverse("volunteer_profile"))
    before = client.get(old_url)
    rotated = client.post(reverse("volunteer_calendar_rotate"))
    after = client.get(old_url)
    volunteer.refresh_from_db()
    new = client.get(reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token}))

    assert page.context["calendar_url"] == f"http://testserver{old_url}"
    assert page.context["calendar_url"] in page.content.decode()
    assert before.status_code == 200
    assert rotated.status_code == 302
    assert volunteer.calendar_token != old_token
    assert after.status_code == 404
    assert new.status_code == 200


def test_the_calendar_link_is_reset_by_post_only(client, db):
    volunteer = VolunteerFactory()
    client.force_login(volunteer.user)

    response = client.get(reverse("volunteer_calendar_rotate"))

    assert response.status_code == 405
    assert Volunteer.objects.get(pk=volunteer.pk).calendar_token == volunteer.calendar_token


# --- Managers -------------------------------------------------------------------------------


def test_a_manager_sees_the_priority_zone_warning(client, site, territory_manager):
    desert = TerritoryFactory(department_id="36", is_priority=True)
    elsewhere = TerritoryFactory(department_id="37", is_priority=False)
    warned = volunteer_in(site.territory, practice_territory=desert)
    calm = volunteer_in(site.territory, practice_territory=elsewhere)
    client.force_login(territory_manager)

    listing = client.get(reverse("volunteer_list")).content.decode()
    warned_page = client.get(reverse("volunteer_detail", args=[warned.pk]))
    calm_page = client.get(reverse("volunteer_detail", args=[calm.pk]))

    rows = dict(re.findall(r'<tr data-volunteer="(\d+)">(.*?)</tr>', listing, re.S))
    assert WARNING in rows[str(warned.pk)]
    assert WARNING not in rows[str(calm.pk)]
    assert warned_page.status_code == calm_page.status_code == 200
    assert WARNING in warned_page.content.decode()
    assert WARNING not in calm_page.content.decode()


def test_a_manager_verifies_with_evidence_and_a_secretary_may_not(
    client, site, territory_manager, secretary
):
    volunteer = volunteer_in(site.territory, status=Volunteer.Status.PENDING)
    url = reverse("volunteer_verify", args=[volunteer.pk])
    evidence = "Inscription ordinale vérifiée sur le tableau du CDOM du Loiret, n° 45/1234."

    client.force_login(secretary)
    secretary_page = client.get(reverse("volunteer_detail", args=[volunteer.pk]))
    refused = client.post(url, {"evidence": evidence})
    client.force_login(territory_manager)
    blank = client.post(url, {"evidence": "  "})
    verified = client.post(url, {"evidence": evidence})
    page = client.get(reverse("volunteer_detail", args=[volunteer.pk]))
    again = client.post(url, {"evidence": "Une seconde fois"}, follow=True)

    assert secretary_page.status_code == 200  # in its scope: may read, not verify
    assert 'data-testid="verify-form"' not in secretary_page.content.decode()
    assert refused.status_code == 403
    assert blank.status_code == 200
    assert field_in_error(blank.content.decode(), "evidence")
    assert verified.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.VERIFIED
    assert volunteer.verified_by == territory_manager
    assert timezone.now() - volunteer.verified_at < timedelta(minutes=1)
    assert volunteer.verification_evidence == evidence
    html = page.content.decode()
    assert 'data-testid="verification"' in html
    assert "45/1234" in html
    assert territory_manager.get_full_name() in html
    assert 'data-testid="verify-form"' not in html
    assert again.status_code == 200  # already verified: the service's refusal, shown
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    volunteer.refresh_from_db()
    assert volunteer.verification_evidence == evidence


def test_a_manager_out_of_scope_gets_404(client, site, territory_manager):
    volunteer = volunteer_in(site.territory, status=Volunteer.Status.PENDING)
    outsider = member(Role.TERRITORY_MANAGER, territory=TerritoryFactory(department_id="12"))
    client.force_login(outsider)

    detail = client.get(reverse("volunteer_detail", args=[volunteer.pk]))
    verify = client.post(reverse("volunteer_verify", args=[volunteer.pk]), {"evidence": "CDOM"})
    max_days = client.post(
        reverse("volunteer_max_days", args=[volunteer.pk]), {"max_days_per_month": "5"}
    )
    missing = client.get(reverse("volunteer_detail", args=[volunteer.pk + 1000]))
    listing = client.get(reverse("volunteer_list"))

    assert (detail.status_code, verify.status_code, max_days.status_code) == (404, 404, 404)
    assert missing.status_code == 404
    assert listing.status_code == 200
    assert list(listing.context["page_obj"]) == []
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.PENDING
    assert volunteer.max_days_per_month == Decimal(2)


def test_a_max_days_change_is_recorded_with_its_author(client, site, ars_manager, secretary):
    volunteer = volunteer_in(site.territory)
    url = reverse("volunteer_max_days", args=[volunteer.pk])

    client.force_login(secretary)
    refused = client.post(url, {"max_days_per_month": "6"})
    client.force_login(ars_manager)
    invalid = client.post(url, {"max_days_per_month": "-1"})
    saved = client.post(url, {"max_days_per_month": "4.5"})
    client.post(reverse("volunteer_verify", args=[volunteer.pk]), {"evidence": "CDOM"})
    page = client.get(reverse("volunteer_detail", args=[volunteer.pk]))

    assert refused.status_code == 403
    assert invalid.status_code == 200
    assert field_in_error(invalid.content.decode(), "max_days_per_month")
    assert saved.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.max_days_per_month == Decimal("4.5")
    record = volunteer.history.latest()
    assert record.history_user == ars_manager
    assert record.max_days_per_month == Decimal("4.5")
    changes = list(page.context["max_days_changes"])
    assert [(c.previous_max_days, c.max_days_per_month) for c in changes] == [
        (Decimal(2), Decimal("4.5"))
    ]
    assert changes[0].history_user == ars_manager
    assert 'data-testid="max-days-history"' in page.content.decode()


def test_the_volunteer_list_is_for_managers_only(client, site, secretary, volunteer):
    for user in (secretary, volunteer):
        client.force_login(user)
        assert client.get(reverse("volunteer_list")).status_code == 403


def test_the_list_puts_pending_volunteers_first_and_filters_by_status(
    client, site, territory_manager
):
    verified = volunteer_in(site.territory, user=UserFactory(last_name="Aubert"))
    pending = volunteer_in(
        site.territory, user=UserFactory(last_name="Zola"), status=Volunteer.Status.PENDING
    )
    uncommitted = volunteer_in(
        site.territory, user=UserFactory(last_name="Bernard"), committed=False
    )
    client.force_login(territory_manager)

    everyone = client.get(reverse("volunteer_list"))
    only_pending = client.get(reverse("volunteer_list"), {"status": "pending"})

    assert list(everyone.context["page_obj"]) == [pending, verified, uncommitted]
    html = everyone.content.decode()
    row = dict(re.findall(r'<tr data-volunteer="(\d+)">(.*?)</tr>', html, re.S))
    assert 'data-commitment="yes"' in row[str(verified.pk)]
    assert 'data-commitment="no"' in row[str(uncommitted.pk)]
    assert list(only_pending.context["page_obj"]) == [pending]


def test_the_list_filters_by_place_as_the_dashboards_link_to_it(client, ars_manager):
    """A territory's volunteers chose it; a department's or region's also live there."""
    cher, indre = TerritoryFactory(department_id="18"), TerritoryFactory(department_id="36")
    chose_cher = volunteer_in(cher, user=UserFactory(last_name="Cher"))
    lives_in_indre = VolunteerFactory(home_department_id="36", user=UserFactory(last_name="Indre"))
    chose_indre = volunteer_in(indre, home_department_id="75", user=UserFactory(last_name="Paris"))
    client.force_login(ars_manager)

    def listed(**params) -> set[Volunteer]:
        response = client.get(reverse("volunteer_list"), params)
        assert response.status_code == 200
        return set(response.context["page_obj"])

    assert listed(territory=cher.pk) == {chose_cher}
    assert listed(territory=indre.pk) == {chose_indre}
    assert listed(department="36") == {lives_in_indre, chose_indre}
    assert listed(department="18") == {chose_cher}
    assert listed(region="24") == {chose_cher, lives_in_indre, chose_indre}
    html = client.get(
        reverse("volunteer_list"),
        {"department": "36", "status": "verified"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Filtered on Indre (36)." in html
    assert '<input type="hidden" name="department" value="36"' in html


@pytest.mark.parametrize("size", [3, 40])
def test_the_volunteer_list_costs_the_same_whatever_its_size(
    client, django_assert_num_queries, site, territory_manager, size
):
    desert = TerritoryFactory(department_id="36")
    for n in range(size):
        volunteer = volunteer_in(
            site.territory,
            status=Volunteer.Status.PENDING if n % 2 else Volunteer.Status.VERIFIED,
            practice_territory=desert if n % 3 == 0 else None,
        )
        volunteer.preferred_territories.add(TerritoryFactory())
    client.force_login(territory_manager)

    # session, user, the user's roles (manager check, reused by the page shell), count, page,
    # preferred territories, unread messages (the bell)
    with django_assert_num_queries(7):
        response = client.get(reverse("volunteer_list"))

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == size
    assert len(response.context["page_obj"]) == min(size, 20)


def test_the_navigation_offers_each_role_its_page(client, territory_manager, volunteer):
    client.force_login(territory_manager)
    manager_html = client.get(reverse("home")).content.decode()
    client.force_login(volunteer)
    volunteer_html = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("volunteer_list")}"' in manager_html
    assert f'href="{reverse("volunteer_profile")}"' not in manager_html
    assert f'href="{reverse("volunteer_profile")}"' in volunteer_html
    assert f'href="{reverse("volunteer_list")}"' not in volunteer_html


def test_every_field_of_the_sign_up_page_has_a_label(client, db):
    TerritoryFactory()
    client.force_login(User.objects.create_user("new@example.fr", "x"))

    html = client.get(reverse("volunteer_profile")).content.decode()

    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
    visible = [i for i in ids if not i.startswith("id_csrf")]
    assert visible
    for widget_id in visible:
        assert f'for="{widget_id}"' in html, widget_id
