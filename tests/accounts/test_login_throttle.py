"""Issue 10, hole 8: failed sign-ins are throttled per account and per address separately
(accounts.adapter, settings.ACCOUNT_RATE_LIMITS), on the login page and the token endpoint alike.

The limits: 5 failures in 5 minutes lock an account (even for the right password); 60 failures in
5 minutes from one address lock that address, whatever the accounts (a spray). Attempts refused
by an account's lock don't spend the address's budget."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"
NAT = "203.0.113.7"
ADDRESS_LIMIT = 60


def api_sign_in(api, email, password, address=NAT):
    return api.post(TOKEN_URL, {"email": email, "password": password}, REMOTE_ADDR=address)


def page_sign_in(client, email, password, address=NAT):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )


def signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


@pytest.fixture
def colleagues(db) -> tuple[User, User]:
    return UserFactory(), UserFactory()


@pytest.mark.parametrize("door", ["api", "page"])
def test_hole8_wrong_passwords_on_one_account_do_not_lock_out_another_account_from_the_same_address(
    api, client, colleagues, door
):
    victim, colleague = colleagues
    if door == "api":
        statuses = [api_sign_in(api, victim.email, "wrong").status_code for _ in range(30)]
        assert statuses[:5] == [400] * 5
        assert set(statuses[5:]) == {429}  # the victim's account is locked...

        right = api_sign_in(api, colleague.email, PASSWORD)

        assert right.status_code == 200, right.json()  # ...not its colleague's
        assert "token" in right.json()
    else:
        for _ in range(30):
            assert page_sign_in(client, victim.email, "wrong").status_code == 200

        right = page_sign_in(client, colleague.email, PASSWORD)

        assert right.status_code == 302
        assert signed_in_as(client) == colleague.pk


def test_hole8_an_account_stays_locked_after_its_limit_even_with_the_right_password(
    api, client, colleagues
):
    victim, _colleague = colleagues
    for _ in range(5):
        assert api_sign_in(api, victim.email, "wrong").status_code == 400

    by_api = api_sign_in(api, victim.email, PASSWORD)
    # From elsewhere too: the lock is the account's, not the address's.
    from_elsewhere = api_sign_in(api, victim.email, PASSWORD, address="198.51.100.20")
    page = page_sign_in(client, victim.email, PASSWORD)

    assert by_api.status_code == 429
    assert by_api.json()["code"] == "throttled"
    assert from_elsewhere.status_code == 429
    assert page.status_code == 200
    assert "Trop de tentatives" in page.content.decode()
    assert signed_in_as(client) is None


def test_hole8_the_page_and_the_api_share_the_account_count(api, client, colleagues):
    victim, _colleague = colleagues
    for _ in range(3):
        page_sign_in(client, victim.email, "wrong")
    for _ in range(2):
        assert api_sign_in(api, victim.email, "wrong").status_code == 400

    assert api_sign_in(api, victim.email, PASSWORD).status_code == 429


def test_hole8_a_spray_over_many_accounts_from_one_address_is_throttled_per_address(api, db):
    # 4 failures each (under the account's limit of 5) over 15 accounts: 60 failures.
    sprayed = [UserFactory() for _ in range(ADDRESS_LIMIT // 4)]
    for user in sprayed:
        for _ in range(4):
            assert api_sign_in(api, user.email, "wrong").status_code == 400
    fresh = UserFactory()

    from_the_sprayer = api_sign_in(api, fresh.email, PASSWORD)
    from_another_address = api_sign_in(api, fresh.email, PASSWORD, address="198.51.100.20")

    assert from_the_sprayer.status_code == 429
    assert from_another_address.status_code == 200


def test_hole8_successful_sign_ins_do_not_count_against_the_address(api, db):
    users = [UserFactory() for _ in range(3)]
    for _ in range(ADDRESS_LIMIT // 3 + 5):
        for user in users:
            assert api_sign_in(api, user.email, PASSWORD).status_code == 200
