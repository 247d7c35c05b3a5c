"""A user's chosen language applies at sign-in, not only once preferences are saved (issue 12)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.models import User

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


def test_a_user_who_chose_english_reads_english_from_the_first_page_after_sign_in(client, user):
    user.language = "en"
    user.save(update_fields=["language"])

    signed_in = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True
    )

    html = signed_in.content.decode()
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en"' in html
    assert "Sign out" in html
    assert "Successfully signed in as" in html  # allauth's message, in English too


def test_a_user_who_chose_french_reads_french_after_sign_in_on_an_english_browser(client, user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login = client.get(reverse("account_login"))
    assert '<html lang="en"' in login.content.decode()

    signed_in = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True
    )

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert '<html lang="fr"' in signed_in.content.decode()


def test_a_new_account_keeps_the_language_it_signed_up_in(client, db, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    client.post(
        reverse("account_signup"),
        {"email": "new.doctor@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert User.objects.get(email="new.doctor@example.org").language == "en"
