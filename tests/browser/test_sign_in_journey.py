from __future__ import annotations

import pytest

from sites.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_secretary_signs_in_with_the_keyboard_and_sees_her_role_and_site(
    live_server, page, demo_world
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("secretariat@demo.releve.fr")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    user_box = page.get_by_test_id("current-user")
    user_box.wait_for()
    assert "Sophie Lefèvre" in user_box.inner_text()
    assert "Secrétariat du lieu" in user_box.inner_text()
    # Her home page: her section, naming her site.
    section = page.locator('[data-role="secretary"]')
    assert section.get_by_role("heading", name="Secrétariat du lieu", exact=True).is_visible()
    scope = section.get_by_test_id("scope")
    assert scope.get_by_role("link", name="Maison de santé de Châteaumeillant").is_visible()

    page.get_by_role("button", name="EN — English").click()
    page.get_by_role("heading", name="Site secretary", exact=True).wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.wait_for()


def test_the_login_page_fits_a_phone_and_starts_with_skip_links(live_server, phone, db):
    phone.goto(f"{live_server.url}/accounts/login/")

    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.textContent")
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    assert focused.strip() == "Contenu"
    assert not overflow
    assert phone.get_by_label("E-mail").is_visible()
