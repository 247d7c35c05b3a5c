from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User


def test_a_doctor_creates_an_account_with_an_email_and_a_password(client, db, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = client.post(
        reverse("account_signup"),
        {
            "email": "Dr.Nouveau@Example.fr",
            "password1": "un-mot-de-passe-solide",
            "password2": "un-mot-de-passe-solide",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="dr.nouveau@example.fr")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert "dr.nouveau@example.fr" in mail.outbox[0].to[0].lower()


def test_an_unverified_account_cannot_sign_in_when_verification_is_mandatory(
    client, user, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_by_email(client, user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post(reverse("account_reset_password"), {"email": user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_signing_out_ends_the_session(client, user):
    client.force_login(user)

    client.post(reverse("account_logout"))

    assert "_auth_user_id" not in client.session


def test_the_header_names_the_user_and_its_roles(client, secretary):
    client.force_login(secretary)

    html = client.get(reverse("home")).content.decode()

    assert secretary.get_full_name() in html
    assert "Secrétariat du lieu" in html
    assert 'href="/sites/"' in html
    assert 'href="/territoires/"' not in html


def test_the_navigation_follows_the_role(client, territory_manager):
    client.force_login(territory_manager)

    html = client.get(reverse("home")).content.decode()

    assert 'href="/territoires/"' in html
    assert 'href="/admin/"' not in html
