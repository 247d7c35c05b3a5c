"""Issue 10, hole 2: API tokens obey MFA, expire, are stored hashed, are managed by their owner
and are revoked when the roles, the password or the account change."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, User
from accounts.roles import Role
from continuity.models import PendingExam
from sites.models import Membership
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import (
    HostSiteFactory,
    MembershipFactory,
    UserFactory,
    VolunteerFactory,
    open_day,
)

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"
PASSWORD = "correct-horse-battery"


def obtain(api, user, **extra) -> dict:
    response = api.post(TOKEN_URL, {"email": user.email, "password": PASSWORD, **extra})
    assert response.status_code == 200, response.json()
    return response.json()


def as_token(api, key: str):
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def nurse(site):
    return member(Role.COURSE_NURSE, site=site)


@pytest.fixture
def exam(site):
    day = open_day(
        site,
        timezone.localdate() - timedelta(days=1),
        status="booked",
        volunteer=VolunteerFactory(),
    )
    return record_exam(day)


# --- MFA -------------------------------------------------------------------------------------


def test_hole2_token_issued_before_mfa_is_refused_once_mfa_is_enforced(settings, api, nurse, exam):
    settings.RELEVE_ENFORCE_MFA = False
    key = obtain(api, nurse)["token"]
    as_token(api, key)
    assert api.get("/api/v1/exams/").json()["count"] == 1

    settings.RELEVE_ENFORCE_MFA = True
    listed = api.get("/api/v1/exams/")
    cancelled = api.post(f"/api/v1/exams/{exam.pk}/cancel/", {"reason": "doublon"})
    new_token = api.post(TOKENS_URL, {"name": "contournement"})

    for response in (listed, cancelled, new_token):
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_required"
    exam.refresh_from_db()
    assert exam.status == PendingExam.Status.AWAITING
    assert ApiToken.objects.filter(user=nurse).count() == 1

    # Once enrolled, the same key works again.
    TOTP.activate(nurse, generate_totp_secret())
    assert api.get("/api/v1/exams/").status_code == 200


def test_hole2_mfa_rule_spares_roles_that_do_not_require_it(settings, api, secretary):
    settings.RELEVE_ENFORCE_MFA = False
    key = obtain(api, secretary)["token"]
    settings.RELEVE_ENFORCE_MFA = True

    assert as_token(api, key).get("/api/v1/me/").status_code == 200


def test_hole2_creating_a_token_by_session_obeys_mfa_too(settings, client, nurse):
    settings.RELEVE_ENFORCE_MFA = True
    client.force_login(nurse)

    api_call = client.post(TOKENS_URL, {"name": "x"}, content_type="application/json")
    page = client.post(reverse("api_tokens"), {"name": "x"})

    assert api_call.status_code == 403
    assert api_call.json()["code"] == "mfa_required"
    assert page.status_code == 302
    assert page.url == reverse("mfa_activate_totp")
    assert not ApiToken.objects.filter(user=nurse).exists()


# --- Expiry and storage ----------------------------------------------------------------------


def test_hole2_token_expires(settings, api, user):
    assert django_settings.RELEVE_TOKEN_TTL == timedelta(days=90)  # the default
    settings.RELEVE_TOKEN_TTL = timedelta(days=30)
    issued = timezone.now()
    body = obtain(api, user)
    as_token(api, body["token"])
    token = ApiToken.objects.get(user=user)
    assert abs(token.expires_at - (issued + timedelta(days=30))) < timedelta(minutes=1)
    assert datetime.fromisoformat(body["expires_at"]) == token.expires_at

    with time_machine.travel(issued + timedelta(days=29, hours=23), tick=False):
        assert api.get("/api/v1/me/").status_code == 200
    with time_machine.travel(issued + timedelta(days=30, minutes=2), tick=False):
        expired = api.get("/api/v1/me/")
        listed = services_list(user)

    assert expired.status_code == 401
    assert expired.json()["code"] == "authentication_failed"
    assert listed == []


def test_hole2_token_lifetime_is_read_from_the_environment():
    from tests.config.test_settings import manage

    code = "from django.conf import settings; print(settings.RELEVE_TOKEN_TTL.days)"
    week = manage("shell", "-c", code, DEBUG="true", RELEVE_TOKEN_TTL_DAYS="7")
    zero = manage("check", DEBUG="true", RELEVE_TOKEN_TTL_DAYS="0")

    assert week.stdout.strip().splitlines()[-1] == "7", week.stderr
    assert zero.returncode != 0
    assert "RELEVE_TOKEN_TTL_DAYS must be at least 1" in zero.stderr


def services_list(user) -> list[int]:
    return list(ApiToken.objects.filter(user=user).live().values_list("pk", flat=True))


def test_hole2_tokens_are_stored_hashed(api, user):
    key = obtain(api, user)["token"]

    token = ApiToken.objects.get(user=user)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    assert key.startswith(token.prefix)
    assert len(key) - len(token.prefix) >= 32


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # schema editor: no atomic
def test_hole2_drf_authtoken_is_gone_and_its_clear_keys_are_dropped():
    from importlib import import_module

    from django.db.migrations.recorder import MigrationRecorder

    assert "rest_framework.authtoken" not in django_settings.INSTALLED_APPS
    migration = import_module("accounts.migrations.0005_api_tokens")
    with connection.schema_editor() as editor:
        editor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY)")
        editor.execute("INSERT INTO authtoken_token (key) VALUES ('clear-key')")
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")

    with connection.schema_editor() as editor:
        migration.drop_drf_tokens(None, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()


# --- The token endpoint ----------------------------------------------------------------------


def test_hole2_each_sign_in_creates_a_new_named_token(api, user):
    first = obtain(api, user)["token"]
    second = obtain(api, user, name="Import labo")["token"]

    assert first != second
    assert sorted(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == [
        "API",
        "Import labo",
    ]
    for key in (first, second):
        assert as_token(api, key).get("/api/v1/me/").status_code == 200


def test_hole2_an_unknown_or_malformed_key_answers_401(api, user):
    for header in ("Token nope", "Token", "Token a b", "Token é"):
        api.credentials(HTTP_AUTHORIZATION=header)
        response = api.get("/api/v1/me/")
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == "Token"


# --- Listed, created, revoked by their owner (API) ------------------------------------------


def test_hole2_owner_lists_creates_and_revokes_tokens_through_the_api(api, user):
    as_token(api, obtain(api, user)["token"])

    created = api.post(TOKENS_URL, {"name": "Script labo"})

    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == {"id", "name", "created_at", "expires_at", "last_used_at", "token"}
    assert body["name"] == "Script labo"
    new_key = body["token"]
    assert as_token(api, new_key).get("/api/v1/me/").status_code == 200

    listed = api.get(TOKENS_URL).json()
    assert listed["count"] == 2
    assert {"count", "next", "previous", "results"} <= set(listed)
    for row in listed["results"]:
        assert set(row) == {"id", "name", "created_at", "expires_at", "last_used_at"}
        assert row["last_used_at"] is not None  # both keys were used
    assert new_key not in str(listed)

    revoked = api.delete(f"{TOKENS_URL}{body['id']}/")

    assert revoked.status_code == 204
    assert not ApiToken.objects.filter(pk=body["id"]).exists()
    assert api.get("/api/v1/me/").status_code == 401


def test_hole2_another_users_token_is_a_404(api, user):
    other_token, other_key = services.api_token_create(user=UserFactory(), name="not yours")
    api.force_authenticate(user)

    revoke = api.delete(f"{TOKENS_URL}{other_token.pk}/")
    listed = api.get(TOKENS_URL).json()

    assert revoke.status_code == 404
    assert listed["count"] == 0
    api.force_authenticate(None)
    assert as_token(api, other_key).get("/api/v1/me/").status_code == 200


def test_hole2_a_token_needs_a_name(api, user):
    api.force_authenticate(user)

    missing = api.post(TOKENS_URL, {}, format="json")
    nul = api.post(TOKENS_URL, {"name": "a\x00b"}, format="json")
    too_long = api.post(TOKENS_URL, {"name": "x" * 101}, format="json")

    for response in (missing, nul, too_long):
        assert response.status_code == 400
        assert set(response.json()) == {"name"}
    assert not ApiToken.objects.exists()


def test_hole2_token_management_needs_a_signed_in_user(api, db):
    assert api.get(TOKENS_URL).status_code == 401
    assert api.post(TOKENS_URL, {"name": "x"}).status_code == 401


# --- Listed, created, revoked by their owner (account page) ---------------------------------


def test_hole2_owner_lists_creates_and_revokes_tokens_on_the_account_page(client, api, user):
    client.force_login(user)
    empty = client.get(reverse("api_tokens"))
    assert empty.status_code == 200
    assert 'data-testid="no-token"' in empty.content.decode()

    created = client.post(reverse("api_tokens"), {"name": "Tableur ARS"})

    assert created.status_code == 200
    token = ApiToken.objects.get(user=user)
    key = created.context["created"]["key"]
    html = created.content.decode()
    assert f'value="{key}"' in html
    assert "Tableur ARS" in html
    assert as_token(api, key).get("/api/v1/me/").status_code == 200

    again = client.get(reverse("api_tokens")).content.decode()
    assert key not in again  # shown once
    assert f'data-token="{token.pk}"' in again

    revoked = client.post(reverse("api_token_revoke", args=[token.pk]))

    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert api.get("/api/v1/me/").status_code == 401


def test_hole2_account_page_refuses_a_blank_name_and_others_tokens(client, user):
    other, _key = services.api_token_create(user=UserFactory(), name="not yours")
    client.force_login(user)

    blank = client.post(reverse("api_tokens"), {"name": "  "})
    foreign = client.post(reverse("api_token_revoke", args=[other.pk]))
    by_get = client.get(reverse("api_token_revoke", args=[other.pk]))

    assert blank.status_code == 200
    assert blank.context["form"].errors.keys() == {"name"}
    assert not ApiToken.objects.filter(user=user).exists()
    assert foreign.status_code == 404
    assert by_get.status_code == 405
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_hole2_revoking_on_the_page_needs_the_csrf_token(user):
    from django.test import Client

    token, _key = services.api_token_create(user=user, name="x")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(reverse("api_token_revoke", args=[token.pk]))

    assert response.status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


# --- Revoked when roles, password or account change -----------------------------------------


def test_hole2_tokens_are_revoked_when_roles_change(api, site, secretary):
    def issue():
        return services.api_token_create(user=secretary, name="x")[1]

    def works(key):
        return as_token(api, key).get("/api/v1/me/").status_code == 200

    key = issue()
    granted = MembershipFactory(user=secretary, role=Role.COURSE_NURSE, site=site)
    assert not works(key)

    key = issue()
    granted.site = HostSiteFactory(territory=site.territory)
    granted.save()
    assert not works(key)

    key = issue()
    granted.delete()
    assert not works(key)

    key = issue()
    Membership.objects.filter(user=secretary).delete()  # a queryset delete (admin's bulk action)
    assert not works(key)


def test_hole2_becoming_a_volunteer_keeps_ones_token(api, user):
    key = services.api_token_create(user=user, name="x")[1]

    MembershipFactory(user=user, role=Role.VOLUNTEER)

    assert as_token(api, key).get("/api/v1/me/").status_code == 200


def test_hole2_tokens_are_revoked_when_the_password_changes(client, api, user):
    key = services.api_token_create(user=user, name="x")[1]
    client.force_login(user)

    changed = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "an-other-long-phrase",
            "password2": "an-other-long-phrase",
        },
    )

    assert changed.status_code == 302
    assert as_token(api, key).get("/api/v1/me/").status_code == 401

    # The admin's "change password" form and `changepassword` call set_password() too.
    key = services.api_token_create(user=user, name="y")[1]
    user.set_password("a-third-long-phrase")
    user.save()
    assert as_token(api, key).get("/api/v1/me/").status_code == 401


def test_hole2_tokens_are_revoked_when_the_password_is_reset_by_email(client, api, user):
    import re

    from allauth.account.models import EmailAddress
    from django.core import mail

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    key = services.api_token_create(user=user, name="x")[1]
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"http://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)[1]

    form = client.get(link, follow=True)
    done = client.post(
        form.request["PATH_INFO"],
        {"password1": "a-brand-new-phrase", "password2": "a-brand-new-phrase"},
    )

    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-phrase")
    assert as_token(api, key).get("/api/v1/me/").status_code == 401


def test_hole2_a_password_hash_upgrade_at_sign_in_keeps_the_tokens(settings, api, user):
    key = obtain(api, user)["token"]
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    obtain(api, user)  # checks the MD5 hash, stores a PBKDF2 one

    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert as_token(api, key).get("/api/v1/me/").status_code == 200


def test_hole2_tokens_are_revoked_when_the_account_is_deactivated(api, user):
    key = services.api_token_create(user=user, name="x")[1]

    user.is_active = False
    user.save()

    assert not ApiToken.objects.filter(user=user).exists()
    assert as_token(api, key).get("/api/v1/me/").status_code == 401


def test_hole2_a_deactivated_users_token_is_refused_even_if_left_behind(api, user):
    key = services.api_token_create(user=user, name="x")[1]

    User.objects.filter(pk=user.pk).update(is_active=False)  # no save(): nothing revoked

    assert as_token(api, key).get("/api/v1/me/").status_code == 401
