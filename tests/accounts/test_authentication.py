from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

from accounts.models import ApiToken, User
from accounts.roles import Role
from sites.demo import ACCOUNTS, DEMO_PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
DEMO_EMAILS = [email for email, *_ in ACCOUNTS]


def current_totp(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_it_signs_in_every_demo_account_through_the_login_page(client, demo_world, email):
    response = client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)
    page = client.get(reverse("home"))
    assert User.objects.get(email=email).last_name in page.content.decode()


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_it_gives_every_demo_account_a_token_and_me_lists_its_roles(api, demo_world, email):
    response = api.post(TOKEN_URL, {"email": email, "password": DEMO_PASSWORD}, format="json")

    assert response.status_code == 200
    user = User.objects.get(email=email)
    assert ApiToken.objects.get(user=user).digest == ApiToken.hash(response.json()["token"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = api.get("/api/v1/me/").json()
    assert me["email"] == email
    expected = sorted(
        (m.role, m.region_id, m.territory_id, m.site_id) for m in user.memberships.all()
    )
    assert (
        sorted((r["role"], r["region"], r["territory"], r["site"]) for r in me["roles"]) == expected
    )
    assert me["roles"], "every demo account holds a role"
    assert me["volunteer"] is None


def test_me_shows_the_scope_of_an_ars_manager(api, demo_world):
    api.force_authenticate(User.objects.get(email="ars@demo.releve.fr"))

    me = api.get("/api/v1/me/").json()

    assert me["roles"] == [
        {"role": Role.ARS_MANAGER, "region": "24", "territory": None, "site": None}
    ]


def test_it_refuses_a_wrong_password_with_a_clear_400(api, user):
    response = api.post(TOKEN_URL, {"email": user.email, "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["L’adresse e-mail ou le mot de passe est incorrect."]
    }
    assert not ApiToken.objects.exists()


def test_it_names_the_missing_field(api, db):
    response = api.post(TOKEN_URL, {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_it_rate_limits_repeated_failures_on_the_api(api, user):
    statuses = [
        api.post(TOKEN_URL, {"email": user.email, "password": "nope"}, format="json").status_code
        for _ in range(7)
    ]

    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429, 429]
    # Even the right password is refused while the account is locked out.
    locked = api.post(
        TOKEN_URL, {"email": user.email, "password": "correct-horse-battery"}, format="json"
    )
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"


def test_it_rate_limits_repeated_failures_on_the_login_page(client, user):
    url = reverse("account_login")
    for _ in range(5):
        page = client.post(url, {"login": user.email, "password": "nope"})
        assert page.status_code == 200
        assert "incorrect" in page.content.decode()

    page = client.post(url, {"login": user.email, "password": "nope"})

    assert page.status_code in (200, 429)
    assert "Trop de tentatives" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_requires_the_otp_once_mfa_is_enabled(api, user):
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    credentials = {"email": user.email, "password": "correct-horse-battery"}

    missing = api.post(TOKEN_URL, credentials, format="json")
    wrong = api.post(TOKEN_URL, {**credentials, "otp": "000000"}, format="json")
    right = api.post(TOKEN_URL, {**credentials, "otp": current_totp(secret)}, format="json")

    assert missing.status_code == 400
    assert "otp" in missing.json()
    assert wrong.status_code == 400
    assert "otp" in wrong.json()
    assert right.status_code == 200, right.json()
    assert Authenticator.objects.get(user=user, type="totp").last_used_at is not None


@pytest.mark.parametrize("role", [Role.ARS_MANAGER, Role.TERRITORY_MANAGER, Role.COURSE_NURSE])
def test_it_makes_managers_and_nurses_enrol_mfa_when_enforced(settings, client, api, site, role):
    settings.RELEVE_ENFORCE_MFA = True
    from tests.conftest import member

    scope = {
        Role.ARS_MANAGER: {"region_id": "24"},
        Role.TERRITORY_MANAGER: {"territory": site.territory},
        Role.COURSE_NURSE: {"site": site},
    }[role]
    user = member(role, **scope)
    client.post(
        reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"}
    )

    page = client.get(reverse("home"))
    token = api.post(
        TOKEN_URL, {"email": user.email, "password": "correct-horse-battery"}, format="json"
    )

    assert page.status_code == 302
    assert page.url == reverse("mfa_activate_totp")
    # The enrolment page is reachable (allauth may first ask for the password again).
    enrol = client.get(reverse("mfa_activate_totp"), follow=True)
    assert enrol.status_code == 200
    assert enrol.request["PATH_INFO"].startswith("/accounts/")
    assert token.status_code == 403
    assert token.json()["code"] == "mfa_required"
    assert not ApiToken.objects.filter(user=user).exists()


def test_it_does_not_ask_secretaries_or_volunteers_for_mfa(settings, client, secretary, volunteer):
    settings.RELEVE_ENFORCE_MFA = True
    for user in (secretary, volunteer):
        client.force_login(user)
        assert client.get(reverse("home")).status_code == 200


def test_it_lets_an_enrolled_manager_in(settings, client, territory_manager):
    settings.RELEVE_ENFORCE_MFA = True
    TOTP.activate(territory_manager, generate_totp_secret())
    client.force_login(territory_manager)

    assert client.get(reverse("home")).status_code == 200


def test_email_is_the_login_and_is_case_insensitive(api, user):
    response = api.post(
        TOKEN_URL,
        {"email": user.email.upper(), "password": "correct-horse-battery"},
        format="json",
    )

    assert response.status_code == 200
    assert User.USERNAME_FIELD == "email"


def test_an_unverified_email_gets_no_token_when_verification_is_mandatory(settings, api, user):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = api.post(
        TOKEN_URL, {"email": user.email, "password": "correct-horse-battery"}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()
