"""First contact (issue 12, "Sign-in and first contact") in Debian's Chromium, on a 360 px phone
and at 1366 px: a visitor goes from the home page to the sign-in, sign-up and password reset
pages (DSFR fields, a DSFR checkbox), an unknown address (the DSFR 404 and its way home) and each
page the footer links (legal notice, personal data, accessibility, site map); a doctor who chose
English signs in through the form and reads English at once; a signed-in secretary sees the
whole "République française" block at 1366 px; a manager reaches the TOTP enrolment page.
`Journey.check` on every page: screenshot, no sideways scroll, axe 0 critical / serious."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.browser.journey import Journey, fr, sign_in_as
from tests.conftest import member
from tests.factories import HostSiteFactory, MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
FOOTER_PAGES = ("site_map", "accessibility", "legal_notice", "personal_data")


@pytest.fixture
def world(settings):
    settings.RELEVE_ENFORCE_MFA = False
    site = HostSiteFactory(name="Maison de santé de Châteaumeillant")
    # A long name and two roles: the most the header's account button has to hold.
    secretary = UserFactory(first_name="Marie-Christine", last_name="de La Rochefoucauld-Montbel")
    MembershipFactory(user=secretary, role=Role.SECRETARY, site=site)
    MembershipFactory(user=secretary, role=Role.TERRITORY_MANAGER, territory=site.territory)
    return {
        "site": site,
        "secretary": secretary,
        "doctor": UserFactory(email="doctor@example.org", language="en"),
        "manager": member(Role.TERRITORY_MANAGER, territory=site.territory),
    }


def test_a_visitor_meets_dsfr_pages_from_home_to_sign_in_errors_and_the_footer(
    live_server, viewport, world
):
    journey = Journey(viewport, "first-contact-visitor")
    # The live server's first answer compiles every template: give it time on a busy machine.
    viewport.goto(f"{live_server.url}/", timeout=60_000)
    journey.check("home")

    viewport.goto(f"{live_server.url}{reverse('account_login')}")
    remember = viewport.locator(".fr-checkbox-group input[type=checkbox]#id_remember")
    assert remember.count() == 1
    assert viewport.locator("input.fr-input#id_login").is_visible()
    journey.check("login")

    viewport.goto(f"{live_server.url}{reverse('account_signup')}")
    assert viewport.locator("input.fr-input#id_password1").is_visible()
    journey.check("signup")

    viewport.goto(f"{live_server.url}{reverse('account_reset_password')}")
    assert viewport.locator("input.fr-input#id_email").is_visible()
    journey.check("password-reset")

    response = viewport.goto(f"{live_server.url}/cette-page-n-existe-pas/")
    assert response.status == 404
    assert viewport.get_by_role("heading", name=fr("Page not found")).is_visible()
    journey.check("not-found")
    viewport.get_by_test_id("home-link").click()
    viewport.wait_for_url(f"{live_server.url}/")

    for name in FOOTER_PAGES:
        link = viewport.locator(f'[data-testid="footer-links"] a[href="{reverse(name)}"]')
        link.click()
        viewport.wait_for_url(f"{live_server.url}{reverse(name)}")
        assert viewport.locator("h1").count() == 1
        journey.check(name)


def test_a_doctor_who_chose_english_signs_in_and_reads_english_at_once(
    live_server, viewport, world
):
    journey = Journey(viewport, "first-contact-english")
    viewport.goto(f"{live_server.url}{reverse('account_login')}")
    viewport.get_by_label("E-mail").fill("doctor@example.org")
    viewport.get_by_label("Mot de passe").fill("wrong")
    viewport.keyboard.press("Enter")
    viewport.get_by_test_id("form-errors").wait_for()
    journey.check("login-refused")

    viewport.get_by_label("Mot de passe").fill(PASSWORD)
    viewport.keyboard.press("Enter")
    viewport.get_by_text("Successfully signed in as").wait_for()
    assert viewport.locator("html").get_attribute("lang") == "en"
    journey.check("signed-in-in-english")


def test_a_signed_in_page_shows_the_whole_republique_francaise_block_at_1366(
    live_server, page, world
):
    journey = Journey(page, "first-contact-header")
    sign_in_as(page, live_server, world["secretary"])
    page.goto(f"{live_server.url}/")
    journey.check("home-signed-in")

    logo = page.locator(".fr-header__logo .fr-logo")
    assert "République" in logo.text_content()
    assert "française" in logo.text_content()
    sizes = page.evaluate(
        """() => {
          const logo = document.querySelector('.fr-header__logo .fr-logo');
          const service = document.querySelector('.fr-header__service');
          const box = logo.getBoundingClientRect();
          return {scroll: logo.scrollWidth, client: logo.clientWidth, right: box.right,
                  width: box.width, serviceLeft: service.getBoundingClientRect().left};
        }"""
    )
    # The block is as wide as its text, and the service's name does not cover it.
    assert sizes["scroll"] <= sizes["client"], sizes
    assert sizes["width"] + 1 >= sizes["scroll"], sizes
    assert sizes["right"] <= sizes["serviceLeft"], sizes

    # The account's links are one click away, in the header's account menu.
    page.get_by_test_id("current-user").click()
    menu = page.get_by_test_id("account-menu")
    menu.get_by_role("link", name=fr("Security")).wait_for()
    journey.check("account-menu-open")
    assert fr("Site secretary") in page.get_by_test_id("current-user").inner_text()


def test_a_manager_reaches_the_totp_enrolment_page_in_the_dsfr_look(live_server, viewport, world):
    journey = Journey(viewport, "first-contact-mfa")
    sign_in_as(viewport, live_server, world["manager"])
    viewport.goto(f"{live_server.url}{reverse('mfa_activate_totp')}")
    # allauth asks for the password again before a security change.
    viewport.locator("input.fr-input#id_password").wait_for()
    journey.check("reauthenticate")
    viewport.locator("input.fr-input#id_password").fill(PASSWORD)
    viewport.keyboard.press("Enter")
    viewport.wait_for_url(f"{live_server.url}{reverse('mfa_activate_totp')}")
    assert viewport.locator(".releve-qr img").is_visible()
    assert viewport.locator("input.fr-input#id_code").is_visible()
    journey.check("totp-activation")
