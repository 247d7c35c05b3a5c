"""Every allauth page has the DSFR look (issue 12, "Sign-in and first contact"): the site's layout
and messages, DSFR fields (fr-input-group, fr-label, fr-input, fr-checkbox-group), buttons and
alerts, errors tied to their field, in French and in English."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.urls import reverse

from accounts.roles import Role
from tests.conftest import member

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
FIELD_TYPES = {"text", "email", "password", "number", "tel", "url", "search"}


@dataclass
class Page:
    """What a page's <main> holds, as a user (and a screen reader) meets it."""

    ids: set[str] = field(default_factory=set)
    labels_for: set[str] = field(default_factory=set)
    inputs: list[dict] = field(default_factory=list)
    buttons: list[dict] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    headings: int = 0
    layout: bool = False
    group_of: dict[str, str] = field(default_factory=dict)  # input id → its group's classes


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page, self.in_main, self.groups = Page(), False, []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        classes = a.get("class", "").split()
        self.page.classes.update(classes)
        if "id" in a:
            self.page.ids.add(a["id"])
        if a.get("data-testid") == "allauth-page":
            self.page.layout = True
        if tag == "div":
            self.groups.append(" ".join(classes))
        if tag == "h1":
            self.page.headings += 1
        if tag == "label" and "for" in a:
            self.page.labels_for.add(a["for"])
        if tag in ("input", "textarea", "select"):
            a.setdefault("type", tag)
            self.page.inputs.append(a)
            kind = next((g for g in reversed(self.groups) if "-group" in g), "")
            self.page.group_of[a.get("id", "")] = kind
        if tag == "button" or (tag == "a" and "fr-btn" in classes):
            self.page.buttons.append(a)

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        if tag == "div" and self.in_main and self.groups:
            self.groups.pop()


def read(response) -> Page:
    assert response.status_code == 200, response
    reader = _Reader()
    reader.feed(response.content.decode())
    return reader.page


def assert_dsfr_look(response) -> Page:
    """The site's layout, an h1, and nothing of the bare browser form allauth draws by default."""
    page = read(response)
    assert page.layout, "not in the site's allauth layout (one centred column, messages)"
    assert page.headings == 1
    for widget in page.inputs:
        kind, ident = widget["type"], widget.get("id", "")
        if kind in ("hidden", "submit"):
            continue
        assert ident in page.labels_for, f"{ident}: no <label for>"
        described = widget.get("aria-describedby", "").split()
        assert described, f"{ident}: its messages are not tied to it"
        assert set(described) <= page.ids, f"{ident}: describedby {described} not on the page"
        if kind in ("checkbox", "radio"):
            assert f"fr-{kind}-group" in page.group_of[ident], f"{ident}: a bare browser {kind}"
        elif kind == "select":
            assert "fr-select" in widget.get("class", ""), ident
        else:
            assert "fr-input" in widget.get("class", "").split(), f"{ident}: no fr-input class"
            assert "fr-input-group" in page.group_of[ident], f"{ident}: outside fr-input-group"
    for button in page.buttons:
        assert "fr-btn" in button.get("class", ""), f"a bare button: {button}"
    return page


@pytest.fixture
def manager(db, site, settings):
    settings.RELEVE_ENFORCE_MFA = True
    return member(Role.TERRITORY_MANAGER, territory=site.territory)


def sign_in(client, user) -> None:
    """Through the login form, so that allauth counts a recent authentication (MFA pages)."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def reset_key_url(user) -> str:
    key = default_token_generator.make_token(user)
    return reverse(
        "account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key}
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_allauth_page_has_the_dsfr_look(client, user, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    anonymous = {
        "login": reverse("account_login"),
        "signup": reverse("account_signup"),
        "password reset": reverse("account_reset_password"),
        "password reset done": reverse("account_reset_password_done"),
        "password reset from key done": reverse("account_reset_password_from_key_done"),
        "email verification sent": reverse("account_email_verification_sent"),
        "email confirmation": reverse(
            "account_confirm_email",
            args=[EmailConfirmationHMAC(EmailAddress.objects.get(user=user)).key],
        ),
    }
    for name, url in anonymous.items():
        response = client.get(url)
        page = assert_dsfr_look(response)
        assert f'lang="{language}"' in response.content.decode()[:300], name

    from_key = client.get(reset_key_url(user), follow=True)
    page = assert_dsfr_look(from_key)
    assert {"id_password1", "id_password2"} <= page.labels_for

    client.force_login(user)
    assert_dsfr_look(client.get(reverse("account_logout")))
    assert_dsfr_look(client.get(reverse("account_change_password")))


def test_the_login_page_shows_dsfr_fields_a_dsfr_checkbox_and_the_reset_link(client, db):
    response = client.get(reverse("account_login"))
    page = assert_dsfr_look(response)
    html = response.content.decode()

    assert {"id_login", "id_password", "id_remember"} <= page.labels_for
    assert "fr-checkbox-group" in page.group_of["id_remember"]
    assert reverse("account_reset_password") in html
    assert "fr-btn" in page.classes


def test_a_wrong_password_is_a_dsfr_alert_and_a_bad_signup_field_is_tied_to_its_error(client, user):
    wrong = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    signup = client.post(
        reverse("account_signup"),
        {"email": "pas-une-adresse", "password1": "x", "password2": "y"},
    )

    assert 'class="fr-alert fr-alert--error' in wrong.content.decode()
    page = assert_dsfr_look(signup)
    email = next(i for i in page.inputs if i.get("id") == "id_email")
    assert email["aria-invalid"] == "true"
    assert "id_email-messages" in email["aria-describedby"]
    assert "fr-input-group--error" in page.group_of["id_email"]
    assert re.search(r'id="id_email-messages"[^>]*>\s*<p class="fr-message fr-message--error">',
                     signup.content.decode())  # fmt: skip


def test_the_mfa_pages_have_the_dsfr_look(client, manager):
    """A manager must enrol TOTP: enrolment, the MFA index, recovery codes, deactivation, and the
    code asked at the next sign-in."""
    sign_in(client, manager)
    # allauth asks for the password again before a security change.
    again = client.get(reverse("mfa_activate_totp"), follow=True)
    assert again.request["PATH_INFO"] == reverse("account_reauthenticate")
    assert_dsfr_look(again)
    client.post(again.request["PATH_INFO"], {"password": PASSWORD})
    activation = client.get(reverse("mfa_activate_totp"))
    page = assert_dsfr_look(activation)
    assert "authenticator_secret" in page.labels_for
    assert "releve-qr" in page.classes

    TOTP.activate(manager, generate_totp_secret())
    RecoveryCodes.activate(manager)
    for name in (
        "mfa_index",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_deactivate_totp",
    ):
        assert_dsfr_look(client.get(reverse(name)))
    client.post(reverse("account_logout"))

    stage = client.post(
        reverse("account_login"), {"login": manager.email, "password": PASSWORD}, follow=True
    )
    assert stage.request["PATH_INFO"] == reverse("mfa_authenticate")
    page = assert_dsfr_look(stage)
    assert "id_code" in page.labels_for


def test_the_mfa_pages_speak_english_to_a_manager_who_chose_english(client, manager):
    manager.language = "en"
    manager.save(update_fields=["language"])
    sign_in(client, manager)

    response = client.get(reverse("mfa_activate_totp"), follow=True)

    assert_dsfr_look(response)
    assert "Confirm Access" in response.content.decode()
    assert '<html lang="en"' in response.content.decode()
