"""403, 404 and 500 pages in the site's DSFR layout, in the user's language, with a way back
(issue 12); a 403 used to be a bare "403 Forbidden"."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse

from config.urls import urlpatterns as site_urlpatterns
from tests.browser.journey import fr


def refuse(request):
    raise PermissionDenied


def fail(request):
    raise RuntimeError("boom")


# The site's routes, plus two that fail on purpose (the handlers are config.urls').
urlpatterns = [path("refuse/", refuse), path("fail/", fail), *site_urlpatterns]
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def assert_error_page(response, status: int) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert 'class="fr-header"' in html
    assert 'class="fr-footer"' in html
    assert 'data-testid="error-page"' in html
    assert 'data-testid="home-link"' in html
    assert f'href="{reverse("home")}"' in html
    return html


def test_an_unknown_address_gets_the_dsfr_404_page_with_a_link_home(client, db, production):
    html = assert_error_page(client.get("/nulle-part/"), 404)

    assert fr("Page not found") in html
    assert '<html lang="fr"' in html


def test_the_404_page_speaks_english_to_an_english_reader_and_links_back(client, db, production):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/nowhere/", HTTP_REFERER="http://testserver/lieux/")

    html = assert_error_page(response, 404)
    assert "Page not found" in html
    assert '<html lang="en"' in html
    assert 'data-testid="back-link"' in html
    assert 'href="http://testserver/lieux/"' in html


def test_a_back_link_never_leads_to_another_site(client, db, production):
    html = assert_error_page(client.get("/x/", HTTP_REFERER="https://evil.example/"), 404)

    assert "evil.example" not in html


def test_a_refusal_is_the_dsfr_403_page_not_a_bare_forbidden(client, user, production):
    client.force_login(user)

    html = assert_error_page(client.get("/refuse/"), 403)

    assert fr("Access refused") in html
    assert "403 Forbidden" not in html


def test_a_form_sent_without_its_csrf_token_gets_the_dsfr_403_page(db, production):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("account_login"), {"login": "a@b.fr", "password": "x"})

    html = assert_error_page(response, 403)
    assert fr("Form expired") in html


def test_a_server_error_gets_the_static_500_page_in_the_user_s_language(db, production):
    client = Client(raise_request_exception=False)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    html = assert_error_page(client.get("/fail/"), 500)

    assert "Unexpected error" in html
    assert '<html lang="en"' in html


def test_the_500_page_renders_without_a_request_or_the_database(rf):
    """No `db` fixture: pytest-django refuses any query, so this fails if the page makes one."""
    from config.errors import server_error

    response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert 'data-testid="error-page"' in response.content.decode()
